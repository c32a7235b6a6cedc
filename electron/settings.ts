import { z } from 'zod';
import { httpUrlSchema } from '../protocol/request.js';

const isoDate = z.string().refine((text) => !Number.isNaN(Date.parse(text)), { message: 'expected an ISO-8601 date' });

export const windowBoundsSchema = z.strictObject({
  x: z.number().int().optional(),
  y: z.number().int().optional(),
  width: z.number().int().min(400).max(10_000),
  height: z.number().int().min(300).max(10_000),
});
export type WindowBounds = z.infer<typeof windowBoundsSchema>;

export const settingsSchema = z.strictObject({
  hubUrl: httpUrlSchema.nullable(),
  notificationsEnabled: z.boolean(),
  pausedUntil: isoDate.nullable(),
  launchAtLogin: z.boolean(),
  windowBounds: windowBoundsSchema.nullable(),
  /** Why the last sign-out did not fully end the session, or that the hub ended it: kept across restarts until dismissed. */
  signOutNote: z.string().max(4000).nullable(),
  /**
   * The person signed out of `hubUrl` (kept to fill in the sign-in form): a launch does not sign in there
   * with what the keychain may still hold for it, as when a locked keychain could not remove the entry.
   */
  signedOut: z.boolean(),
});
export type SettingsData = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: SettingsData = {
  hubUrl: null,
  notificationsEnabled: true,
  pausedUntil: null,
  launchAtLogin: false,
  windowBounds: null,
  signOutNote: null,
  signedOut: false,
};

/** The same rules as JSON schema, so electron-store refuses to write a bad value in the first place. */
export const STORE_JSON_SCHEMA = {
  hubUrl: { type: ['string', 'null'], maxLength: 2048, pattern: '^https?://' },
  notificationsEnabled: { type: 'boolean' },
  pausedUntil: { type: ['string', 'null'] },
  launchAtLogin: { type: 'boolean' },
  signOutNote: { type: ['string', 'null'], maxLength: 4000 },
  signedOut: { type: 'boolean' },
  windowBounds: {
    type: ['object', 'null'],
    properties: {
      x: { type: 'integer' },
      y: { type: 'integer' },
      width: { type: 'integer', minimum: 400, maximum: 10_000 },
      height: { type: 'integer', minimum: 300, maximum: 10_000 },
    },
    required: ['width', 'height'],
    additionalProperties: false,
  },
} as const;

/** The part of electron-store (or `conf`, in tests) the settings use. */
export interface KeyValueStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

/**
 * Typed settings over a key-value store. Every read is parsed: a value edited by hand or written by
 * an older version falls back to its default instead of reaching the app.
 */
export class Settings {
  constructor(private readonly store: KeyValueStore) {}

  get<K extends keyof SettingsData>(key: K): SettingsData[K] {
    const parsed = settingsSchema.shape[key].safeParse(this.store.get(key));
    return parsed.success ? (parsed.data as SettingsData[K]) : DEFAULT_SETTINGS[key];
  }

  /** Parses before writing; throws a zod error on a bad value. */
  set<K extends keyof SettingsData>(key: K, value: SettingsData[K]): void {
    this.store.set(key, settingsSchema.shape[key].parse(value));
  }

  all(): SettingsData {
    return {
      hubUrl: this.get('hubUrl'),
      notificationsEnabled: this.get('notificationsEnabled'),
      pausedUntil: this.get('pausedUntil'),
      launchAtLogin: this.get('launchAtLogin'),
      windowBounds: this.get('windowBounds'),
      signOutNote: this.get('signOutNote'),
      signedOut: this.get('signedOut'),
    };
  }
}
