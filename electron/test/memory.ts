import type { Keychain, StoredCredential } from '../keychain.js';
import { DEFAULT_SETTINGS, Settings, type SettingsData } from '../settings.js';

export function memorySettings(initial: Partial<SettingsData> = {}): { settings: Settings; data: Map<string, unknown> } {
  const data = new Map<string, unknown>(Object.entries({ ...DEFAULT_SETTINGS, ...initial }));
  return { settings: new Settings({ get: (key) => data.get(key), set: (key, value) => data.set(key, value) }), data };
}

/** A keychain kept in memory, or one that fails as a machine without a Secret Service does. */
export function memoryKeychain(failWith?: Error): Keychain & { entries: Map<string, StoredCredential> } {
  const entries = new Map<string, StoredCredential>();
  const guard = () => {
    if (failWith) throw failWith;
  };
  return {
    entries,
    check: async () => guard(),
    save: async (hubUrl, credential) => {
      guard();
      entries.set(hubUrl, credential);
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
