import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { httpUrlSchema } from '../../protocol/index.js';
import { redactUrl } from '../redact.js';
import { defaultCheckpointKeyFile, defaultKeyEncryptionKeyFile } from '../keys/key-files.js';

/**
 * The hub's settings, one row each: the flag, the environment variable and the config-file key that
 * set it, the zod schema its value must pass (the same one for every source: flags and variables
 * arrive as text, the file may hold numbers and booleans), and its default.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface HubSettings {
  port: number;
  host: string;
  dataDir: string;
  policy: string | undefined;
  databaseUrl: string | undefined;
  databaseListenUrl: string | undefined;
  logLevel: LogLevel;
  rateLimit: number;
  trustProxy: boolean;
  accessLog: boolean;
  publicUrl: string | undefined;
  checkpointKey: string;
  retiredCheckpointKeys: string | undefined;
  keyEncryptionKey: string;
  checkpointLog: string | undefined;
  checkpointLogShared: boolean;
  checkpointEvery: number;
  checkpointMinutes: number;
}

export type SettingKey = keyof HubSettings;

export interface SettingDefinition<T> {
  /** `--port`; a boolean setting also takes `--no-…`. */
  flag: string;
  env: string;
  /** Help text; the command adds the variable's name and `defaultHelp`. */
  help: string;
  defaultHelp?: string;
  /** What the flag's value is called in help: `--data-dir <dir>`. */
  placeholder?: string;
  schema: z.ZodType<NonNullable<T>>;
  default: (env: NodeJS.ProcessEnv) => T;
  /** Shown in place of the value when settings are printed (secrets never are). */
  display?: (value: NonNullable<T>) => string;
  /** A path: when it comes from the config file, it is taken relative to that file's folder. */
  isPath?: boolean;
  boolean?: boolean;
}

const postgresUrlSchema = z.string({ error: 'expected a postgres:// URL' }).trim().regex(/^postgres(ql)?:\/\/\S+$/, 'expected a postgres:// URL');

/** `$XDG_DATA_HOME/greenlight`, falling back to `~/.local/share/greenlight` as the XDG spec does. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'greenlight');
}

/** A whole number given as a number (config file) or as digits (flag, variable). */
function wholeNumber(message: string, check: (value: number) => boolean) {
  return z
    .union([z.number(), z.string().trim().regex(/^\d+$/).transform(Number)], { error: message })
    .refine((value) => Number.isInteger(value) && check(value), { message });
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];
const booleanSchema = z.union(
  [
    z.boolean(),
    z
      .string()
      .trim()
      .toLowerCase()
      .refine((text) => TRUE_WORDS.includes(text) || FALSE_WORDS.includes(text))
      .transform((text) => TRUE_WORDS.includes(text)),
  ],
  { error: 'expected true or false' },
);

const nonEmptyText = (what: string) => z.string({ error: `expected ${what}` }).trim().min(1, `expected ${what}`);


export const SETTINGS: { [K in SettingKey]: SettingDefinition<HubSettings[K]> } = {
  port: {
    placeholder: 'port',
    flag: '--port',
    env: 'GREENLIGHT_PORT',
    help: 'port to listen on; 0 picks a free one',
    defaultHelp: '7300',
    schema: wholeNumber('expected a port number, 0 to 65535', (port) => port >= 0 && port <= 65_535),
    default: () => 7300,
  },
  host: {
    placeholder: 'address',
    flag: '--host',
    env: 'GREENLIGHT_HOST',
    help: 'address to listen on, 0.0.0.0 for every interface',
    defaultHelp: '127.0.0.1',
    schema: nonEmptyText('an address such as 127.0.0.1 or 0.0.0.0'),
    default: () => '127.0.0.1',
  },
  dataDir: {
    placeholder: 'dir',
    flag: '--data-dir',
    env: 'GREENLIGHT_DATA_DIR',
    help: 'where the SQLite database and keys live',
    defaultHelp: '$XDG_DATA_HOME/greenlight',
    schema: nonEmptyText('a folder'),
    default: defaultDataDir,
    isPath: true,
  },
  policy: {
    placeholder: 'file',
    flag: '--policy',
    env: 'GREENLIGHT_POLICY',
    help: 'the policy YAML file; reloaded when it changes and on SIGHUP (without one, a commented starter is written to <data-dir>/policy.yaml on first start and used)',
    schema: nonEmptyText('a file'),
    default: () => undefined,
    isPath: true,
  },
  databaseUrl: {
    placeholder: 'url',
    flag: '--database-url',
    env: 'GREENLIGHT_DATABASE_URL',
    help: 'use PostgreSQL instead of SQLite',
    schema: postgresUrlSchema,
    default: () => undefined,
    display: redactUrl,
  },
  databaseListenUrl: {
    placeholder: 'url',
    flag: '--database-listen-url',
    env: 'GREENLIGHT_DATABASE_LISTEN_URL',
    help: 'the same database without a transaction-mode pooler, for the events hubs send each other (LISTEN needs a session of its own)',
    defaultHelp: 'the --database-url',
    schema: postgresUrlSchema,
    default: () => undefined,
    display: redactUrl,
  },
  logLevel: {
    placeholder: 'level',
    flag: '--log-level',
    env: 'GREENLIGHT_LOG_LEVEL',
    help: LOG_LEVELS.join(', '),
    defaultHelp: 'info',
    schema: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }),
    default: () => 'info',
  },
  rateLimit: {
    placeholder: 'n',
    flag: '--rate-limit',
    env: 'GREENLIGHT_RATE_LIMIT',
    help: 'HTTP requests per minute per token, or per address without one',
    defaultHelp: '6000',
    schema: wholeNumber('expected a positive whole number', (limit) => limit > 0),
    default: () => 6000,
  },
  trustProxy: {
    flag: '--trust-proxy',
    env: 'GREENLIGHT_TRUST_PROXY',
    help: 'behind a load balancer that sets X-Forwarded-For: take client addresses (rate limits, audit) from it',
    defaultHelp: 'off',
    schema: booleanSchema,
    default: () => false,
    boolean: true,
  },
  accessLog: {
    flag: '--access-log',
    env: 'GREENLIGHT_ACCESS_LOG',
    help: 'one log line per HTTP request at info (method, route, status, duration, user)',
    defaultHelp: 'on',
    schema: booleanSchema,
    default: () => true,
    boolean: true,
  },
  publicUrl: {
    placeholder: 'url',
    flag: '--public-url',
    env: 'GREENLIGHT_PUBLIC_URL',
    help: 'where people reach this hub (behind a proxy, its outside address), for links in notifications',
    defaultHelp: 'http://<host>:<port>',
    schema: httpUrlSchema.transform((url) => url.replace(/\/+$/, '')),
    default: () => undefined,
  },
  checkpointKey: {
    placeholder: 'file',
    flag: '--checkpoint-key',
    env: 'GREENLIGHT_CHECKPOINT_KEY',
    help: 'the Ed25519 key audit checkpoints are signed with; keep it outside the data directory (created, mode 0600, on first start; every hub on one database needs the same file)',
    defaultHelp: '$XDG_CONFIG_HOME/greenlight/checkpoint-key.pem',
    schema: nonEmptyText('a file'),
    default: defaultCheckpointKeyFile,
    isPath: true,
  },
  retiredCheckpointKeys: {
    placeholder: 'file',
    flag: '--retired-checkpoint-keys',
    env: 'GREENLIGHT_RETIRED_CHECKPOINT_KEYS',
    help: 'the public keys (PEM) of checkpoint keys --checkpoint-key replaced, each after a line "until-seq: N" (the last event it vouched for): checkpoints they signed up to it still verify, and the hub publishes them',
    schema: nonEmptyText('a file'),
    default: () => undefined,
    isPath: true,
  },
  keyEncryptionKey: {
    placeholder: 'file',
    flag: '--key-encryption-key',
    env: 'GREENLIGHT_KEY_ENCRYPTION_KEY',
    help: 'the AES-256 key the grant signing keys are encrypted with in the database (created, mode 0600, on first start; without it the database cannot sign)',
    defaultHelp: '$XDG_CONFIG_HOME/greenlight/key-encryption-key',
    schema: nonEmptyText('a file'),
    default: defaultKeyEncryptionKeyFile,
    isPath: true,
  },
  checkpointLog: {
    placeholder: 'file',
    flag: '--checkpoint-log',
    env: 'GREENLIGHT_CHECKPOINT_LOG',
    help: 'append each signed audit checkpoint here, one JSON line; best on another disk or an append-only mount',
    defaultHelp: '<data-dir>/checkpoints.jsonl',
    schema: nonEmptyText('a file'),
    default: () => undefined,
    isPath: true,
  },
  checkpointLogShared: {
    flag: '--checkpoint-log-shared',
    env: 'GREENLIGHT_CHECKPOINT_LOG_SHARED',
    help: "the checkpoint log is written by hubs of several databases: their checkpoints are noted, not held against this one's, and the hub no longer refuses to sign a chain id other than the one it signed before",
    defaultHelp: 'off',
    schema: booleanSchema,
    default: () => false,
    boolean: true,
  },
  checkpointEvery: {
    placeholder: 'n',
    flag: '--checkpoint-every',
    env: 'GREENLIGHT_CHECKPOINT_EVERY',
    help: 'sign an audit checkpoint every this many events',
    defaultHelp: '1000',
    schema: wholeNumber('expected a positive whole number', (n) => n > 0),
    default: () => 1000,
  },
  checkpointMinutes: {
    placeholder: 'minutes',
    flag: '--checkpoint-minutes',
    env: 'GREENLIGHT_CHECKPOINT_MINUTES',
    help: 'and every this many minutes that saw events (and at shutdown)',
    defaultHelp: '5',
    schema: wholeNumber('expected a positive whole number of minutes', (n) => n > 0),
    default: () => 5,
  },
};

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** `dataDir` → `data-dir`, the spelling of flags; the config file uses the camelCase key. */
export const flagName = (key: SettingKey): string => SETTINGS[key].flag.slice(2);
