import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, Settings, settingsSchema, type SettingsData } from './settings.js';
import { settingsStoreOptions } from './settings-store.js';

function realStore(cwd = mkdtempSync(join(tmpdir(), 'gl-settings-'))) {
  const { name: configName, ...options } = settingsStoreOptions();
  return new Conf<SettingsData>({ ...options, configName, cwd });
}

describe('settings', () => {
  it('schema accepts the defaults and a full valid set', () => {
    expect(settingsSchema.parse(DEFAULT_SETTINGS)).toEqual(DEFAULT_SETTINGS);
    const full: SettingsData = {
      hubUrl: 'https://hub.example.com',
      notificationsEnabled: false,
      pausedUntil: '2026-11-25T08:00:00.000Z',
      launchAtLogin: true,
      windowBounds: { x: 10, y: 20, width: 1200, height: 800 },
      signOutNote: 'You were signed out by the hub at https://hub.example.com: The hub ended this session.',
      signedOut: true,
    };
    expect(settingsSchema.parse(full)).toEqual(full);
  });

  it.each([
    ['hubUrl', 'file:///etc/passwd'],
    ['hubUrl', 'not a url'],
    ['notificationsEnabled', 'yes'],
    ['pausedUntil', 'tomorrow-ish'],
    ['launchAtLogin', 1],
    ['windowBounds', { width: 10, height: 10 }],
    ['windowBounds', { width: 800, height: 600, extra: true }],
  ] as const)('schema rejects %s = %j', (key, value) => {
    expect(settingsSchema.safeParse({ ...DEFAULT_SETTINGS, [key]: value }).success).toBe(false);
  });

  it('refuses to write a bad value and reads a corrupted one as its default', () => {
    const store = realStore();
    const settings = new Settings(store);
    expect(() => settings.set('hubUrl', 'javascript:alert(1)')).toThrow();
    settings.set('hubUrl', 'http://127.0.0.1:7300');
    expect(settings.get('hubUrl')).toBe('http://127.0.0.1:7300');
    const raw = new Map<string, unknown>([['launchAtLogin', 'definitely']]);
    const loose = new Settings({ get: (key) => raw.get(key), set: (key, value) => raw.set(key, value) });
    expect(loose.get('launchAtLogin')).toBe(false);
  });

  it('a sign-out note written is read back by the app started again, in the same settings file, until cleared', () => {
    const folder = mkdtempSync(join(tmpdir(), 'gl-settings-'));
    new Settings(realStore(folder)).set('signOutNote', 'You were signed out by the hub at https://hub.example.com: The hub ended this session.');
    expect(new Settings(realStore(folder)).get('signOutNote')).toBe('You were signed out by the hub at https://hub.example.com: The hub ended this session.');
    new Settings(realStore(folder)).set('signOutNote', null);
    expect(new Settings(realStore(folder)).get('signOutNote')).toBeNull();
    expect(() => realStore(folder).set('signOutNote', 'x'.repeat(5_000))).toThrow();
  });

  it('the store JSON schema refuses what zod refuses', () => {
    const store = realStore();
    expect(() => store.set('notificationsEnabled', 'yes' as unknown as boolean)).toThrow();
    expect(() => store.set('windowBounds', { width: 5, height: 5 })).toThrow();
    expect(() => store.set('hubUrl', 'ftp://x')).toThrow();
    store.set('pausedUntil', '2026-11-25T08:00:00.000Z');
    expect(new Settings(store).all()).toMatchObject({ pausedUntil: '2026-11-25T08:00:00.000Z', notificationsEnabled: true });
  });
});
