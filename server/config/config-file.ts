import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { pathText, quotedText } from '../../protocol/index.js';
import { notifiersConfigSchema } from '../notify/config.js';
import { SETTINGS, SETTING_KEYS, type HubSettings, type SettingKey } from './settings.js';
import { oidcConfigSchema } from '../auth/oidc/config.js';
import { YAML_DEPTH_LIMIT, yamlNestingBeyond } from '../yaml-depth.js';

/**
 * The hub's configuration file (`--config`, GREENLIGHT_CONFIG): YAML whose top-level keys are the
 * settings' camelCase names (`port`, `dataDir`, `databaseUrl`, `publicUrl`, …) and sections that only
 * the file holds (`notifiers`), each a key of `fileSchema` below with its own schema; every key is
 * checked, and one the hub doesn't know is refused rather than silently ignored.
 */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type SettingsShape = { [K in SettingKey]: z.ZodOptional<z.ZodType<NonNullable<HubSettings[K]>>> };

function settingsShape(): SettingsShape {
  return Object.fromEntries(SETTING_KEYS.map((key) => [key, SETTINGS[key].schema.optional()])) as SettingsShape;
}

export const fileSchema = z.strictObject({
  ...settingsShape(),
  /** Webhooks, email and their secrets: endpoints the policy names, kept out of the policy. */
  notifiers: notifiersConfigSchema.optional(),
  oidc: oidcConfigSchema.optional(),
});

export type ConfigFile = z.infer<typeof fileSchema>;

export interface LoadedConfigFile {
  file: string;
  values: ConfigFile;
}

/** The problems of a file, each naming its key, at most five. */
function describeIssues(issues: z.core.$ZodIssue[]): string {
  const known = Object.keys(fileSchema.shape).join(', ');
  const parts = issues.slice(0, 5).map((issue) => {
    const where = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => quotedText(`${where ? `${where}.` : ''}${key}`)).join(', ');
      return `unknown key${issue.keys.length === 1 ? '' : 's'} ${keys}${where ? '' : ` (known keys: ${known})`}`;
    }
    return `${issue.path.length ? pathText(issue.path) : 'file'}: ${issue.message}`;
  });
  return parts.join('; ') + (issues.length > 5 ? ` (and ${issues.length - 5} more)` : '');
}

/** Parses the text of a config file; `file` is used for messages and to resolve relative paths. */
export function parseConfigFile(text: string, file: string): LoadedConfigFile {
  const tooDeep = yamlNestingBeyond(text);
  if (tooDeep) throw new ConfigError(`config file ${file} line ${tooDeep.line}: lists and maps nest more than ${YAML_DEPTH_LIMIT} deep; no setting needs that many`);
  const lines = new LineCounter();
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter: lines });
  const problem = document.errors[0];
  if (problem) {
    const { line } = lines.linePos(problem.pos[0]);
    throw new ConfigError(`config file ${file} line ${line}: not valid YAML: ${problem.message.split('\n')[0]}`);
  }
  let raw: unknown;
  try {
    raw = document.toJS() ?? {};
  } catch (error) {
    // Aliases expanded past the parser's limit (a "billion laughs" file) throw only here.
    throw new ConfigError(`config file ${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file}: expected a mapping of settings (key: value lines), not ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  const result = fileSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`config file ${file}: ${describeIssues(result.error.issues)}`);
  const values: ConfigFile = { ...result.data };
  // Paths in the file are relative to the file, as an operator reading it expects.
  const base = path.dirname(path.resolve(file));
  for (const key of SETTING_KEYS) {
    const value = values[key];
    if (SETTINGS[key].isPath && typeof value === 'string') Object.assign(values, { [key]: path.resolve(base, value) });
  }
  return { file, values };
}

export function loadConfigFile(file: string): LoadedConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message;
    throw new ConfigError(`cannot read the config file ${file}: ${why}`);
  }
  return parseConfigFile(text, file);
}
