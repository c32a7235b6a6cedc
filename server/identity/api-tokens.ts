import { GreenlightError, newTokenSchema, parseOrThrow, type CreatedToken, type TokenInfo } from '../../protocol/index.js';
import { actsAsAdmin, isAdmin, type Actor } from '../domain/actor.js';
import { isLastActiveAdmin } from '../domain/user-admin.js';
import { audit, inTransaction, type Context } from '../domain/context.js';
import { generateToken, hashToken, newTokenId } from '../domain/tokens.js';
import { tokenStore, type OwnedToken } from '../store/tokens.js';
import type { Database } from '../store/schema.js';
import type { Transaction } from 'kysely';
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

/** Acting on someone else's tokens takes an admin's token with the admin scope; an admin's narrower one is told which scope it lacks. */
function requireAdminFor(by: Actor, what: string): void {
  if (actsAsAdmin(by)) return;
  if (isAdmin(by)) throw new GreenlightError('INSUFFICIENT_SCOPE', `This token lacks the "admin" scope it needs to ${what}. Use a token that has it.`);
  throw new GreenlightError('FORBIDDEN', `You can only manage your own tokens; an admin manages those of service users.`);
}

/** Whose token `by` may make or see: their own, or (admins) a service user's. */
function checkOwner(by: Actor, owner: UserRecord): void {
  if (owner.id === by.id) return;
  requireAdminFor(by, `manage ${owner.name}'s tokens`);
  if (!owner.service) throw new GreenlightError('FORBIDDEN', `${owner.name} is a person, not a service user: they make their own tokens (an admin can issue them a new sign-in token).`);
}

/**
 * Tokens are made and revoked with a sign-in (the first token, or a single sign-on session), not
 * with a named API token: one placed on a pipeline or a target system must not be able to mint
 * itself a longer-lived successor or revoke its owner's sign-in. An admin's token with the admin
 * scope manages tokens as its job.
 */
function requireSignIn(by: Actor, what: string): void {
  if (by.tokenKind !== 'api' || actsAsAdmin(by)) return;
  throw new GreenlightError('FORBIDDEN', `A named API token cannot ${what}; use your sign-in (the console, or your first token).`);
}

export async function createToken(ctx: Context, by: Actor, input: unknown): Promise<CreatedToken> {
  const parsed = parseOrThrow(newTokenSchema, input, 'token');
  const scopes = [...new Set(parsed.scopes)];
  const now = ctx.clock.now();
  const token = generateToken();
  const id = newTokenId(now);
  const expiresAt = new Date(now.getTime() + parsed.expiresIn * 1000).toISOString();
  // Whether someone else's name exists is told only to those who may make their tokens.
  if (parsed.user !== undefined && parsed.user !== by.name) requireAdminFor(by, `make ${parsed.user}'s tokens`);
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
    requireSignIn(by, 'make tokens');
    // An API token (an admin's) cannot outlive itself through a successor.
    if (row.id === by.id && by.tokenKind === 'api' && by.tokenExpiresAt && expiresAt > by.tokenExpiresAt) {
      throw new GreenlightError('FORBIDDEN', `The token you are using expires at ${by.tokenExpiresAt}, so it cannot make one of yours that lasts longer; ask for a shorter expiresIn.`);
    }
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
    requireAdminFor(by, `list ${userName}'s tokens`);
    const owner = await userStore.byName(ctx.store.db, userName);
    if (!owner) throw new GreenlightError('NOT_FOUND', `No user "${userName}".`);
    ownerId = owner.id;
  }
  return (await tokenStore.ofUser(ctx.store.db, ownerId)).map((owned) => ({ ...toTokenInfo(owned), ...(owned.token.id === by.tokenId ? { current: true as const } : {}) }));
}

/** The last active admin keeps at least one working token with the admin scope: without it nobody could manage users again. */
async function keepAnAdminSignIn(ctx: Context, trx: Transaction<Database>, found: OwnedToken): Promise<void> {
  const { owner } = found;
  // One that never expires: a day-long token left behind would lock the hub out tomorrow.
  const canAdminister = (token: OwnedToken['token']) => effectiveScopes(token.scopes, owner.roles, owner.service).includes('admin') && token.expiresAt === null;
  if (!canAdminister(found.token) || !(await isLastActiveAdmin(ctx, trx, owner.id))) return;
  const others = (await tokenStore.ofUser(trx, owner.id)).filter(({ token }) => token.id !== found.token.id && canAdminister(token));
  if (others.length > 0) return;
  throw new GreenlightError(
    'LAST_ADMIN',
    `${owner.name} is the last active admin and this is their last token with the admin scope that does not expire: revoking it would leave nobody able to manage users. Replace it with a new sign-in token (greenlight user sign-in-token ${owner.name}), or make someone else an admin.`,
  );
}

/** Ends a token at once: its holder's next call is refused and their sockets reconnect (and fail with it). */
export async function revokeToken(ctx: Context, by: Actor, tokenId: string): Promise<TokenInfo> {
  const revoked = await inTransaction(ctx, async (trx) => {
    const found = await tokenStore.withOwnerById(trx, tokenId);
    if (found && found.owner.id !== by.id && isAdmin(by)) requireAdminFor(by, 'revoke the tokens of others');
    const mayRevoke = found && (found.owner.id === by.id || actsAsAdmin(by));
    if (!found || !mayRevoke) throw new GreenlightError('NOT_FOUND', `No token "${tokenId}" of yours.`);
    // A pipeline may still end its own token when its job is done.
    if (found.token.id !== by.tokenId) requireSignIn(by, 'revoke tokens');
    await keepAnAdminSignIn(ctx, trx, found);
    await tokenStore.delete(trx, tokenId);
    await audit(ctx, trx, { actor: by.name, type: 'token.revoked', outcome: 'revoked', data: { user: found.owner.name, token: tokenId, name: found.token.name, kind: found.token.kind } });
    return found;
  });
  ctx.actors?.forgetToken(tokenId);
  ctx.bus.emit({ type: 'user.changed', userId: revoked.owner.id });
  return toTokenInfo(revoked);
}
