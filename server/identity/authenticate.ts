import type { Role, Scope, TokenKind } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';
import type { Context } from '../domain/context.js';
import { hashToken, looksLikeToken } from '../domain/tokens.js';
import { effectiveScopes } from './scopes.js';

/** Who a token belongs to, or why it is refused (`reason` for the audit log, `message` for the caller). */
export type Authentication = { actor: Actor } | { refused: { reason: string; message: string } };

const UNKNOWN = {
  reason: 'unknown or disabled token',
  message: 'This token is not valid (unknown, revoked, or its user was disabled). Ask an admin for a new one.',
};

/** `tokenHash` may be passed where the caller already hashed the token (the HTTP rate limiter does). */
export async function resolveToken(ctx: Context, token: string, tokenHash = hashToken(token)): Promise<Authentication> {
  if (!looksLikeToken(token)) return { refused: UNKNOWN };
  const now = ctx.clock.now();
  const nowMs = now.getTime();
  const cached = ctx.actors?.get(tokenHash, nowMs);
  if (cached) {
    ctx.lastSeen.touch(cached.id, now, cached.tokenId);
    return { actor: cached };
  }
  const snapshot = ctx.actors?.snapshot() ?? 0;
  const row = await ctx.store.db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .select(['users.id', 'users.name', 'users.roles', 'users.disabled', 'users.email', 'users.service'])
    .select(['tokens.id as token_id', 'tokens.name as token_name', 'tokens.kind', 'tokens.scopes', 'tokens.expires_at'])
    .where('tokens.hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row || row.disabled === 1 || !row.token_id) return { refused: UNKNOWN };
  if (row.expires_at !== null && Date.parse(row.expires_at) <= nowMs) {
    return {
      refused: {
        reason: `expired token ${row.token_id} ("${row.token_name}") of ${row.name}`,
        message: `This token ("${row.token_name}") expired at ${row.expires_at}. Create a new one (greenlight token create) or sign in again.`,
      },
    };
  }
  const groups = await ctx.store.db.selectFrom('user_groups').select('group_name').where('user_id', '=', row.id).execute();
  const roles = JSON.parse(row.roles) as Role[];
  const service = row.service === 1;
  const actor: Actor = {
    id: row.id,
    name: row.name,
    roles,
    groups: groups.map((g) => g.group_name),
    email: row.email ?? null,
    service,
    scopes: effectiveScopes(row.scopes === null ? null : (JSON.parse(row.scopes) as Scope[]), roles, service),
    tokenId: row.token_id,
    tokenKind: row.kind as TokenKind,
  };
  ctx.actors?.set(tokenHash, actor, nowMs, snapshot, row.expires_at === null ? undefined : Date.parse(row.expires_at));
  ctx.lastSeen.touch(actor.id, now, actor.tokenId);
  return { actor };
}
