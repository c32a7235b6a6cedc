import type { Transaction } from 'kysely';
import { audit, type Context } from '../domain/context.js';
import { generateToken, hashToken, newTokenId } from '../domain/tokens.js';
import type { Database } from '../store/schema.js';
import { tokenStore } from '../store/tokens.js';

/** How long a sign-on session lasts before the person signs in again. */
export const SESSION_SECONDS = 12 * 3600;

/** A hub-issued session token (kind `session`): every scope of the role, stored hashed, revocable. */
export async function issueSessionToken(ctx: Context, trx: Transaction<Database>, user: { id: string; name: string }, via: string): Promise<{ token: string; id: string; expiresAt: string }> {
  const now = ctx.clock.now();
  const token = generateToken();
  const id = newTokenId(now);
  const expiresAt = new Date(now.getTime() + SESSION_SECONDS * 1000).toISOString();
  await tokenStore.insert(trx, { hash: hashToken(token), id, userId: user.id, name: `${via} sign-in`, kind: 'session', scopes: null, createdAt: now.toISOString(), expiresAt });
  await audit(ctx, trx, { actor: user.name, type: 'session.started', outcome: 'created', data: { user: user.name, token: id, via, expiresAt } });
  return { token, id, expiresAt };
}
