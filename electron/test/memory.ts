import type { Keychain } from '../keychain.js';
import { DEFAULT_SETTINGS, Settings, type SettingsData } from '../settings.js';

export function memorySettings(initial: Partial<SettingsData> = {}): { settings: Settings; data: Map<string, unknown> } {
  const data = new Map<string, unknown>(Object.entries({ ...DEFAULT_SETTINGS, ...initial }));
  return { settings: new Settings({ get: (key) => data.get(key), set: (key, value) => data.set(key, value) }), data };
}

/** A keychain kept in memory, or one that fails as a machine without a Secret Service does. */
export function memoryKeychain(failWith?: Error): Keychain & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  const guard = () => {
    if (failWith) throw failWith;
  };
  return {
    entries,
    save: async (hubUrl, token) => {
      guard();
      entries.set(hubUrl, token);
    },
    read: async (hubUrl) => {
      guard();
      return entries.get(hubUrl) ?? null;
    },
    remove: async (hubUrl) => {
      guard();
      return entries.delete(hubUrl);
    },
  };
}
