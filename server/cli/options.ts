import type { Command } from 'commander';
import { z } from 'zod';
import { describeZodError, httpUrlSchema, parseDuration } from '../../protocol/index.js';
import { usageError } from './cli-error.js';
import { CliHttp } from './http.js';
import type { Io } from './output.js';

export const DEFAULT_HUB = 'http://127.0.0.1:7300';

/**
 * zod's default messages speak of types ("expected array, received undefined"); a person typed
 * flags. Messages a schema sets itself still win over these.
 */
export const flagErrors: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'missing';
      return issue.expected === 'number' || issue.expected === 'int' ? 'expected a number' : `expected ${issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? 'must not be empty' : `at least ${issue.minimum} characters`;
      return issue.origin === 'array' || issue.origin === 'set' ? `give at least ${issue.minimum}` : `at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'string' ? `at most ${issue.maximum} characters` : `at most ${issue.maximum}`;
    default:
      return undefined;
  }
};

/** Parses commander's option bag with a zod schema so every flag is checked before anything runs. */
export function parseFlags<S extends z.ZodType>(schema: S, values: unknown): z.infer<S> {
  const result = schema.safeParse(values, { error: flagErrors });
  if (!result.success) {
    const parts = result.error.issues.slice(0, 3).map((issue) => {
      const flag = issue.path.length ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : 'flags';
      return `${flag}: ${issue.message}`;
    });
    throw usageError(parts.join('; ') || describeZodError(result.error));
  }
  return result.data;
}

/** A `30s` / `5m` / `1h` flag value, in seconds. */
export const durationFlag = z.string().transform((text, ctx) => {
  const seconds = parseDuration(text);
  if (seconds === null) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; use e.g. 30s, 5m, 1h or 2d` });
    return z.NEVER;
  }
  return seconds;
});

/** Commander collector for flags that may be given several times. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Splits `key=value` at the first `=`; the key must not be empty. */
export function splitPair(text: string, flag: string, shape = 'key=value'): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw usageError(`--${flag} expects ${shape}, got "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}

export interface HubFlags {
  hub?: string;
  token?: string;
}

export function addHubOptions(command: Command): Command {
  return command
    .option('--hub <url>', `hub URL (env GREENLIGHT_HUB, default ${DEFAULT_HUB})`)
    .option('--token <token>', 'API token (env GREENLIGHT_TOKEN; prefer the variable, flags show up in ps)');
}

/** For admin-only commands: on the hub's own machine the admin token is already in the environment. */
export const ADMIN_ONLY = { needsToken: true, tokenFallback: 'GREENLIGHT_ADMIN_TOKEN' } as const;

const hubFlagsSchema = z.object({ hub: httpUrlSchema, token: z.string().min(1).optional() });

/**
 * The HTTP client for a command. `needsToken` is false for grant verify/redeem, which target systems
 * call without an account; `tokenFallback` names an extra variable to try (the hub's admin token).
 */
export function connect(io: Io, flags: HubFlags, options: { needsToken: boolean; tokenFallback?: string }): CliHttp {
  const fallback = options.tokenFallback ? io.env[options.tokenFallback] : undefined;
  const parsed = parseFlags(hubFlagsSchema, {
    hub: flags.hub ?? (io.env.GREENLIGHT_HUB || DEFAULT_HUB),
    token: flags.token ?? (io.env.GREENLIGHT_TOKEN || fallback || undefined),
  });
  if (options.needsToken && !parsed.token) {
    const extra = options.tokenFallback ? ` (or ${options.tokenFallback})` : '';
    throw usageError(`no API token: pass --token or set GREENLIGHT_TOKEN${extra}`);
  }
  return new CliHttp(parsed.hub, parsed.token);
}
