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
    ctx.lastSeen.touch(cached.id, now, cached.tokenId ?? undefined);
    return { actor: cached };
  }
  const snapshot = ctx.actors?.snapshot() ?? 0;
  const found = await ctx.tokens.load(tokenHash);
  if (!found || found.owner.disabled) return { refused: UNKNOWN };
  const { token: held, owner, groups } = found;
  const expiresAtMs = held.expiresAt === null ? undefined : Date.parse(held.expiresAt);
  if (expiresAtMs !== undefined && expiresAtMs <= nowMs) {
    return {
      refused: {
        reason: `expired token ${held.id} ("${held.name}") of ${owner.name}`,
        message: `This token ("${held.name}") expired at ${held.expiresAt}. Create a new one (greenlight token create) or sign in again.`,
      },
    };
  }
  const actor: Actor = {
    id: owner.id,
    name: owner.name,
    roles: owner.roles,
    groups,
    email: owner.email,
    service: owner.service,
    scopes: effectiveScopes(held.scopes, owner.roles, owner.service),
    tokenId: held.id,
    tokenKind: held.kind,
    ...(held.expiresAt === null ? {} : { tokenExpiresAt: held.expiresAt }),
  };
  ctx.actors?.set(tokenHash, actor, nowMs, snapshot, expiresAtMs);
  ctx.lastSeen.touch(actor.id, now, actor.tokenId ?? undefined);
  return { actor };
}
