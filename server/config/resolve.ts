import type { ParsedNotifiersConfig } from '../notify/config.js';
import type { OidcConfigFile } from '../auth/oidc/config.js';
import { ConfigError, loadConfigFile, type LoadedConfigFile } from './config-file.js';
import { SETTINGS, SETTING_KEYS, type HubSettings, type SettingKey } from './settings.js';

/** Where a setting's value came from: a flag beats a variable, a variable beats the file, the file beats the default. */
export type SettingOrigin = { source: 'flag' | 'env' | 'file'; name: string } | { source: 'default' };

export interface ResolvedSettings {
  settings: HubSettings;
  origins: Record<SettingKey, SettingOrigin>;
  /** The config file read, and what named it. */
  configFile: { path: string; origin: SettingOrigin } | null;
  /** The file's `notifiers:` section (secrets still as references); only the file holds it. */
  notifiers: ParsedNotifiersConfig | undefined;
  /** The file's `oidc:` section (its client secret still a reference); only the file holds it. */
  oidc: OidcConfigFile | undefined;
}

export interface SettingInputs {
  /** Values given on the command line, as commander parsed them (text, or booleans for switches); absent when not given. */
  flags: Partial<Record<SettingKey | 'config', unknown>>;
  env: NodeJS.ProcessEnv;
  /** Reads the config file; tests may swap it. */
  readConfig?: (file: string) => LoadedConfigFile;
}

export const CONFIG_ENV = 'GREENLIGHT_CONFIG';

function parseSetting<K extends SettingKey>(key: K, value: unknown, where: string): NonNullable<HubSettings[K]> {
  const result = SETTINGS[key].schema.safeParse(value);
  if (!result.success) throw new ConfigError(`${where}: ${result.error.issues[0]?.message ?? 'invalid value'}`);
  return result.data;
}

/** An empty variable counts as unset, as shells and unit files leave them. */
const fromEnv = (env: NodeJS.ProcessEnv, name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);

/** Every setting from flags, then the environment, then the config file, then its default. */
export function resolveHubSettings(inputs: SettingInputs): ResolvedSettings {
  const { flags, env } = inputs;
  const configFlag = typeof flags.config === 'string' && flags.config !== '' ? flags.config : undefined;
  const configEnv = fromEnv(env, CONFIG_ENV);
  const configPath = configFlag ?? configEnv;
  const configOrigin: SettingOrigin = configFlag ? { source: 'flag', name: '--config' } : { source: 'env', name: CONFIG_ENV };
  const file = configPath ? (inputs.readConfig ?? loadConfigFile)(configPath) : null;

  const settings: Partial<Record<SettingKey, unknown>> = {};
  const origins: Partial<Record<SettingKey, SettingOrigin>> = {};
  for (const key of SETTING_KEYS) {
    const definition = SETTINGS[key];
    const flagValue = flags[key];
    const envValue = fromEnv(env, definition.env);
    const fileValue = file?.values[key];
    if (flagValue !== undefined) {
      const flag = definition.boolean && flagValue === false ? `--no-${definition.flag.slice(2)}` : definition.flag;
      settings[key] = parseSetting(key, flagValue, flag);
      origins[key] = { source: 'flag', name: flag };
    } else if (envValue !== undefined) {
      settings[key] = parseSetting(key, envValue, definition.env);
      origins[key] = { source: 'env', name: definition.env };
    } else if (fileValue !== undefined && file) {
      settings[key] = fileValue;
      origins[key] = { source: 'file', name: file.file };
    } else {
      settings[key] = definition.default(env);
      origins[key] = { source: 'default' };
    }
  }
  return {
    settings: settings as HubSettings,
    origins: origins as Record<SettingKey, SettingOrigin>,
    configFile: configPath ? { path: configPath, origin: configOrigin } : null,
    notifiers: file?.values.notifiers,
    oidc: file?.values.oidc,
  };
}

export function describeOrigin(origin: SettingOrigin): string {
  switch (origin.source) {
    case 'flag':
      return `flag ${origin.name}`;
    case 'env':
      return `environment ${origin.name}`;
    case 'file':
      return `config file ${origin.name}`;
    case 'default':
      return 'default';
  }
}

/** Each setting with its value (secrets shown redacted) and where it came from, for a debug log. */
export interface SettingRow {
  setting: string;
  value: string | number | boolean | null;
  source: string;
}

export function settingsReport(resolved: ResolvedSettings): SettingRow[] {
  const rows = SETTING_KEYS.map((key): SettingRow => {
    const value = resolved.settings[key];
    const display = SETTINGS[key].display as ((value: unknown) => string) | undefined;
    const shown = value === undefined ? null : display ? display(value) : value;
    return { setting: key, value: shown, source: describeOrigin(resolved.origins[key]) };
  });
  if (resolved.configFile) rows.unshift({ setting: 'config', value: resolved.configFile.path, source: describeOrigin(resolved.configFile.origin) });
  if (resolved.notifiers && resolved.configFile) rows.push({ setting: 'notifiers', value: describeNotifiers(resolved.notifiers), source: `config file ${resolved.configFile.path}` });
  return rows;
}

/** Which channels are configured, by name and server only: never a URL's path, a user or a secret. */
function describeNotifiers(notifiers: ParsedNotifiersConfig): string {
  const parts = notifiers.webhooks.map((webhook) => `webhook:${webhook.name} (${new URL(webhook.url).origin})`);
  if (notifiers.email) parts.push(`email via ${notifiers.email.smtp.host}:${notifiers.email.smtp.port}`);
  return parts.join(', ') || 'none';
}
