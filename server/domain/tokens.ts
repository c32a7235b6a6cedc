import { createHash, randomBytes } from 'node:crypto';
import { TOKEN_PREFIX } from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { TokenRecord } from '../store/tokens.js';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(24).toString('base64url');
}

/** Tokens are stored only as this hash; the token itself is shown once. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeToken(value: string): boolean {
  return value.startsWith(TOKEN_PREFIX) && value.length >= TOKEN_PREFIX.length + 16 && value.length <= 256;
}

export const newTokenId = (now: Date): string => newId('tok', now);

/** The token a new user gets: every scope their role allows, no expiry, until an admin disables them. */
export function firstTokenRecord(token: string, userId: string, now: Date): Omit<TokenRecord, 'lastUsedAt'> {
  return { hash: hashToken(token), id: newTokenId(now), userId, name: 'initial', kind: 'user', scopes: null, createdAt: now.toISOString(), expiresAt: null };
}
