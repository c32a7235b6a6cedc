import type { Options } from 'electron-store';
import { DEFAULT_SETTINGS, STORE_JSON_SCHEMA, type SettingsData } from './settings.js';

/** Options for electron-store (and for `conf` in tests, which takes the same ones plus `cwd`). */
export function settingsStoreOptions(): Options<SettingsData> {
  return {
    name: 'settings',
    schema: STORE_JSON_SCHEMA as Options<SettingsData>['schema'],
    defaults: DEFAULT_SETTINGS,
    // A settings file edited into an invalid shape is reset rather than keeping the app from starting.
    clearInvalidConfig: true,
  };
}
