import { GreenlightError, newTokenSchema, parseOrThrow, type CreatedToken, type TokenInfo } from '../../protocol/index.js';
import { actsAsAdmin, type Actor } from '../domain/actor.js';
import { audit, inTransaction, type Context } from '../domain/context.js';
import { generateToken, hashToken, newTokenId } from '../domain/tokens.js';
import { tokenStore, type OwnedToken } from '../store/tokens.js';
import { userStore, type UserRecord } from '../store/users.js';
import { effectiveScopes, scopesAllowed } from './scopes.js';

/** Named, scoped, expiring tokens: a person makes them for themselves, an admin for a service user. */

function toTokenInfo({ token, owner }: OwnedToken): TokenInfo {
  return {
    id: token.id,
    name: token.name,
    user: owner.name,
    kind: token.kind,
    scopes: effectiveScopes(token.scopes, owner.roles, owner.service),
    createdAt: token.createdAt,
    expiresAt: token.expiresAt,
    lastUsedAt: token.lastUsedAt,
  };
}

/** Whose token `by` may make or see: their own, or (admins) a service user's. */
function checkOwner(by: Actor, owner: UserRecord): void {
  if (owner.id === by.id) return;
  if (!actsAsAdmin(by)) throw new GreenlightError('FORBIDDEN', 'You can only manage your own tokens; an admin manages those of service users.');
  if (!owner.service) throw new GreenlightError('FORBIDDEN', `${owner.name} is a person, not a service user: they make their own tokens.`);
}

export async function createToken(ctx: Context, by: Actor, input: unknown): Promise<CreatedToken> {
  const parsed = parseOrThrow(newTokenSchema, input, 'token');
  const scopes = [...new Set(parsed.scopes)];
  const now = ctx.clock.now();
  const token = generateToken();
  const id = newTokenId(now);
  const expiresAt = new Date(now.getTime() + parsed.expiresIn * 1000).toISOString();
  const owner = await inTransaction(ctx, async (trx) => {
    const row = await userStore.byName(trx, parsed.user ?? by.name);
    if (!row) throw new GreenlightError('NOT_FOUND', `No user "${parsed.user ?? by.name}".`);
    checkOwner(by, row);
    if (row.disabled) throw new GreenlightError('FORBIDDEN', `${row.name} is disabled; enable them before making tokens.`);
    const allowed = scopesAllowed(row.roles, row.service);
    const beyondRole = scopes.filter((scope) => !allowed.includes(scope));
    if (beyondRole.length) throw new GreenlightError('FORBIDDEN', `${row.name}'s role does not allow ${beyondRole.map((s) => `"${s}"`).join(', ')}; a token can hold only: ${allowed.join(', ')}.`);
    // A token cannot mint one that does more than itself.
    const beyondCaller = row.id === by.id ? scopes.filter((scope) => !by.scopes.includes(scope)) : [];
    if (beyondCaller.length) throw new GreenlightError('INSUFFICIENT_SCOPE', `The token you are using lacks ${beyondCaller.map((s) => `"${s}"`).join(', ')}, so it cannot make a token that has it.`);
    await tokenStore.insert(trx, { hash: hashToken(token), id, userId: row.id, name: parsed.name, kind: 'api', scopes, createdAt: now.toISOString(), expiresAt });
    await audit(ctx, trx, { actor: by.name, type: 'token.created', outcome: 'created', data: { user: row.name, token: id, name: parsed.name, scopes, expiresAt } });
    return row;
  });
  return { id, name: parsed.name, user: owner.name, kind: 'api', scopes, createdAt: now.toISOString(), expiresAt, lastUsedAt: null, token };
}

/** The caller's tokens; an admin may name a user (`?user=`) to see theirs. */
export async function listTokens(ctx: Context, by: Actor, userName?: string): Promise<TokenInfo[]> {
  let ownerId = by.id;
  if (userName !== undefined && userName !== by.name) {
    if (!actsAsAdmin(by)) throw new GreenlightError('FORBIDDEN', 'Only an admin can list the tokens of another user.');
    const owner = await userStore.byName(ctx.store.db, userName);
    if (!owner) throw new GreenlightError('NOT_FOUND', `No user "${userName}".`);
    ownerId = owner.id;
  }
  return (await tokenStore.ofUser(ctx.store.db, ownerId)).map(toTokenInfo);
}

/** Ends a token at once: its holder's next call is refused and their sockets reconnect (and fail with it). */
export async function revokeToken(ctx: Context, by: Actor, tokenId: string): Promise<TokenInfo> {
  const revoked = await inTransaction(ctx, async (trx) => {
    const found = await tokenStore.withOwnerById(trx, tokenId);
    const mayRevoke = found && (found.owner.id === by.id || actsAsAdmin(by));
    if (!found || !mayRevoke) throw new GreenlightError('NOT_FOUND', `No token "${tokenId}" of yours.`);
    await tokenStore.delete(trx, tokenId);
    await audit(ctx, trx, { actor: by.name, type: 'token.revoked', outcome: 'revoked', data: { user: found.owner.name, token: tokenId, name: found.token.name, kind: found.token.kind } });
    return found;
  });
  ctx.actors?.forgetToken(tokenId);
  ctx.bus.emit({ type: 'user.changed', userId: revoked.owner.id });
  return toTokenInfo(revoked);
}
