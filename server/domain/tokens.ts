import { createHash, randomBytes } from 'node:crypto';
import { TOKEN_PREFIX } from '../../protocol/index.js';

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
