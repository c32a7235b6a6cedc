import { z } from 'zod';
import { parseDuration } from './duration.js';
import { LIMITS } from './limits.js';
import { userNameSchema } from './user.js';

/** What a token may be used for. A token never holds a scope its user's role does not allow. */
export const SCOPES = ['requests:create', 'requests:read', 'requests:decide', 'grants:verify', 'grants:redeem', 'audit:read', 'admin'] as const;
export const scopeSchema = z.enum(SCOPES);
export type Scope = z.infer<typeof scopeSchema>;

/**
 * `user`: the token an admin hands out with a new user (every scope of the role, no expiry);
 * `api`: a named token its owner made for a machine; `session`: issued by the hub on single sign-on.
 */
export const TOKEN_KINDS = ['user', 'api', 'session'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export const MAX_TOKEN_LIFETIME_SECONDS = 365 * 86_400;

export const tokenNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.identifier)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._:-]*$/, 'use letters, digits, spaces and . _ : - only');

/** `90d`, `12h`, … or a number of seconds; at most a year. */
const expiresInSchema = z
  .union([z.number().int().positive(), z.string()])
  .transform((value, ctx) => {
    const seconds = typeof value === 'number' ? value : parseDuration(value);
    if (seconds === null) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30d, 12h or 90d' });
      return z.NEVER;
    }
    if (seconds > MAX_TOKEN_LIFETIME_SECONDS) {
      ctx.addIssue({ code: 'custom', message: 'a token lives at most a year (365d)' });
      return z.NEVER;
    }
    return seconds;
  });

export const newTokenSchema = z.strictObject({
  name: tokenNameSchema,
  scopes: z.array(scopeSchema).min(1, `name at least one scope: ${SCOPES.join(', ')}`).max(SCOPES.length),
  expiresIn: expiresInSchema,
  /** An admin makes tokens for a service user; everyone else for themselves. */
  user: userNameSchema.optional(),
});
export type NewToken = z.input<typeof newTokenSchema>;

export const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  user: z.string(),
  kind: z.enum(TOKEN_KINDS),
  scopes: z.array(scopeSchema),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  /** To the minute: the hub records it at most once a minute. */
  lastUsedAt: z.string().nullable(),
  /** In a listing: true on the token the listing was asked with (revoking it signs its holder out); absent on the others. */
  current: z.literal(true).optional(),
});
export type TokenInfo = z.infer<typeof tokenSchema>;

export const createdTokenSchema = tokenSchema.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof createdTokenSchema>;

export const tokenListSchema = z.object({ tokens: z.array(tokenSchema) });
export const tokenIdSchema = z.string().regex(/^tok_[A-Za-z0-9_-]{6,64}$/, 'a token id such as tok_…');
