import { z } from 'zod';
import { describeMisleadingText, findMisleadingText } from './misleading-text.js';
import { findUnstorableText } from './storable-text.js';

export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'INSUFFICIENT_SCOPE',
  'NOT_FOUND',
  'INVALID_INPUT',
  'ALREADY_DECIDED',
  'SELF_APPROVAL',
  'NOT_ELIGIBLE',
  'NO_POLICY',
  'NO_APPROVERS',
  'IDEMPOTENCY_MISMATCH',
  'TOO_MANY_PENDING',
  'QUORUM_LINE_MET',
  'BREAK_GLASS_FORBIDDEN',
  'BREAK_GLASS_COOLDOWN',
  'BREAK_GLASS_REVIEW_PENDING',
  'PAYLOAD_TOO_LARGE',
  'JSON_TOO_DEEP',
  'RATE_LIMITED',
  'ALREADY_REDEEMED',
  'GRANT_INVALID',
  'NOT_YET_VALID',
  'OUTSIDE_WINDOW',
  'EXTENSION_LIMIT',
  'CONFLICT',
  'LAST_ADMIN',
  'SIGN_IN_INCOMPLETE',
  'NO_SINGLE_SIGN_ON',
  'HUB_TOO_OLD',
  'CANCELLED',
  'UNAVAILABLE',
  'TIMEOUT',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const wireErrorSchema = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
});
/**
 * An error as it crosses from a client to its user (over the desktop app's IPC, into the UI, the
 * CLI). `noAnswer` is set only by the client that saw nothing answer, never read from a hub's
 * answer (the schema above drops it), so a hub that answered "unavailable" is told apart from one
 * that could not be reached, whatever either sentence says. `neverSent`, set the same way, narrows
 * `noAnswer` to where the client knows nothing left it (no connection was ever made): only then is
 * "not sent" true; a connection reset after the request went out may have been acted on.
 */
export type WireError = z.infer<typeof wireErrorSchema> & { noAnswer?: true; neverSent?: true };

/** HTTP status for each stable error code. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  INSUFFICIENT_SCOPE: 403,
  NOT_FOUND: 404,
  INVALID_INPUT: 400,
  ALREADY_DECIDED: 409,
  SELF_APPROVAL: 403,
  NOT_ELIGIBLE: 403,
  NO_POLICY: 422,
  // Like NO_POLICY, the request is well formed but cannot go anywhere: nobody could approve it.
  NO_APPROVERS: 422,
  IDEMPOTENCY_MISMATCH: 409,
  TOO_MANY_PENDING: 429,
  // Like ALREADY_DECIDED: the vote would change nothing, every line it could count toward is full.
  QUORUM_LINE_MET: 409,
  BREAK_GLASS_FORBIDDEN: 403,
  BREAK_GLASS_COOLDOWN: 429,
  // The user's earlier break-glass still waits on (or failed) its review.
  BREAK_GLASS_REVIEW_PENDING: 409,
  PAYLOAD_TOO_LARGE: 413,
  JSON_TOO_DEEP: 400,
  RATE_LIMITED: 429,
  ALREADY_REDEEMED: 409,
  GRANT_INVALID: 403,
  // A real grant, used too early: retrying at its start will work.
  NOT_YET_VALID: 409,
  // Well formed, but the rule's windows allow no access at that time.
  OUTSIDE_WINDOW: 422,
  // The rule's extensions.maxTotal is used up: a new request is the way on.
  EXTENSION_LIMIT: 422,
  CONFLICT: 409,
  LAST_ADMIN: 409,
  // The hub sent the browser back to the desktop app without the one-time code a sign-in ends with.
  SIGN_IN_INCOMPLETE: 502,
  // The desktop app asked for single sign-on at a hub that has none set up.
  NO_SINGLE_SIGN_ON: 404,
  // The desktop app needs something of the hub that an older hub does not do (checking its sign-in state).
  HUB_TOO_OLD: 501,
  // The person ended the wait in the client (the desktop app's Cancel, or another sign-in started); no
  // hub sends it. 499 is the "client closed request" that proxies log for the same thing.
  CANCELLED: 499,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INTERNAL: 500,
};

export interface GreenlightErrorOptions {
  /**
   * Nothing answered: the connection was refused, the name did not resolve, TLS failed, or no answer
   * came in time. Only then is the network (or a hub that is down) to blame.
   */
  noAnswer?: boolean;
  /** No connection was ever made (refused, no such host, no route): whatever was to be sent, was not. Implies `noAnswer`. */
  neverSent?: boolean;
}

export class GreenlightError extends Error {
  readonly code: ErrorCode;
  readonly noAnswer: boolean;
  readonly neverSent: boolean;
  constructor(code: ErrorCode, message: string, options: GreenlightErrorOptions = {}) {
    super(message);
    this.name = 'GreenlightError';
    this.code = code;
    this.neverSent = options.neverSent ?? false;
    this.noAnswer = this.neverSent || (options.noAnswer ?? false);
  }
  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message };
    if (this.noAnswer) wire.noAnswer = true;
    if (this.neverSent) wire.neverSent = true;
    return wire;
  }
}

const PLAIN_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Text the sender chose, quoted for an error message: JSON-quoted, cut at 40 characters, and anything
 * outside printable ASCII written as \u escapes, so an error never echoes invisible or
 * direction-changing characters back into a log or a terminal.
 */
export function quotedText(text: string): string {
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return JSON.stringify(shown).replace(/[^\x20-\x7e]/gu, (char) => {
    const code = (char.codePointAt(0) ?? 0).toString(16);
    return code.length > 4 ? `\\u{${code}}` : `\\u${code.padStart(4, '0')}`;
  });
}

/** Where in the input a problem is, as `context.fields.ticket`; a key that is not plain is quoted. */
export function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'body';
  return path
    .map((segment) => {
      const text = typeof segment === 'symbol' ? (segment.description ?? '?') : String(segment);
      return PLAIN_SEGMENT.test(text) ? text : quotedText(text);
    })
    .join('.');
}

/** Turns a zod failure into one readable sentence naming each offending field. */
export function describeZodError(error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((issue) => {
    // A refused record key: say what is wrong with the key, not "Invalid key in record".
    if (issue.code === 'invalid_key') return `${pathText(issue.path)}: a key: ${issue.issues[0]?.message ?? issue.message}`;
    // zod's own message quotes the keys as sent.
    if (issue.code === 'unrecognized_keys') return `${pathText(issue.path)}: Unrecognized key${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.map(quotedText).join(', ')}`;
    return `${pathText(issue.path)}: ${issue.message}`;
  });
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '';
  return parts.join('; ') + more;
}

export interface ParseOptions {
  /**
   * `compared`: the input is only compared with what the hub holds (a grant's payload against its
   * hash), never stored, shown or echoed, so text the hub would now refuse as misleading is compared
   * as sent (what cannot be stored at all never could be, so is still refused).
   */
  text?: 'stored' | 'compared';
}

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string, options: ParseOptions = {}): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new GreenlightError('INVALID_INPUT', `Invalid ${what}: ${describeZodError(result.error)}`);
  }
  const unstorable = findUnstorableText(result.data);
  if (unstorable) {
    throw new GreenlightError('INVALID_INPUT', `Invalid ${what}: ${pathText(unstorable)}: contains a NUL character or a broken UTF-16 surrogate, which can't be stored; send plain UTF-8 text`);
  }
  if (options.text === 'compared') return result.data;
  const misleading = findMisleadingText(result.data);
  if (misleading) {
    throw new GreenlightError('INVALID_INPUT', `Invalid ${what}: ${pathText(misleading.path)}: ${describeMisleadingText(misleading)}`);
  }
  return result.data;
}
