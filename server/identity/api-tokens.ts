import type { Selectable } from 'kysely';
import { GreenlightError, newTokenSchema, parseOrThrow, type CreatedToken, type Role, type Scope, type TokenInfo, type TokenKind } from '../../protocol/index.js';
import { isAdmin, type Actor } from '../domain/actor.js';
import { audit, inTransaction, type Context } from '../domain/context.js';
import { generateToken, hashToken, newTokenId } from '../domain/tokens.js';
import type { TokensTable, UsersTable } from '../store/schema.js';
import { effectiveScopes, scopesAllowed } from './scopes.js';

/** Named, scoped, expiring tokens: a person makes them for themselves, an admin for a service user. */

type TokenRow = Selectable<TokensTable> & { user_name: string; roles: string; service: number };

function toTokenInfo(row: TokenRow): TokenInfo {
  const stored = row.scopes === null ? null : (JSON.parse(row.scopes) as Scope[]);
  return {
    id: row.id ?? '',
    name: row.name,
    user: row.user_name,
    kind: row.kind as TokenKind,
    scopes: effectiveScopes(stored, JSON.parse(row.roles) as Role[], row.service === 1),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

const tokensWithUsers = (ctx: Context) =>
  ctx.store.db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .selectAll('tokens')
    .select(['users.name as user_name', 'users.roles', 'users.service']);

/** Whose token `by` may make or see: their own, or (admins) a service user's. */
function checkOwner(by: Actor, owner: UsersTable): void {
  if (owner.id === by.id) return;
  if (!isAdmin(by) || !by.scopes.includes('admin')) throw new GreenlightError('FORBIDDEN', 'You can only manage your own tokens; an admin manages those of service users.');
  if (owner.service !== 1) throw new GreenlightError('FORBIDDEN', `${owner.name} is a person, not a service user: they make their own tokens.`);
}

export async function createToken(ctx: Context, by: Actor, input: unknown): Promise<CreatedToken> {
  const parsed = parseOrThrow(newTokenSchema, input, 'token');
  const scopes = [...new Set(parsed.scopes)];
  const now = ctx.clock.now();
  const token = generateToken();
  const id = newTokenId(now);
  const expiresAt = new Date(now.getTime() + parsed.expiresIn * 1000).toISOString();
  const owner = await inTransaction(ctx, async (trx) => {
    const row = await trx.selectFrom('users').selectAll().where('name', '=', parsed.user ?? by.name).executeTakeFirst();
    if (!row) throw new GreenlightError('NOT_FOUND', `No user "${parsed.user ?? by.name}".`);
    checkOwner(by, row);
    if (row.disabled === 1) throw new GreenlightError('FORBIDDEN', `${row.name} is disabled; enable them before making tokens.`);
    const allowed = scopesAllowed(JSON.parse(row.roles) as Role[], row.service === 1);
    const beyondRole = scopes.filter((scope) => !allowed.includes(scope));
    if (beyondRole.length) throw new GreenlightError('FORBIDDEN', `${row.name}'s role does not allow ${beyondRole.map((s) => `"${s}"`).join(', ')}; a token can hold only: ${allowed.join(', ')}.`);
    // A token cannot mint one that does more than itself.
    const beyondCaller = row.id === by.id ? scopes.filter((scope) => !by.scopes.includes(scope)) : [];
    if (beyondCaller.length) throw new GreenlightError('INSUFFICIENT_SCOPE', `The token you are using lacks ${beyondCaller.map((s) => `"${s}"`).join(', ')}, so it cannot make a token that has it.`);
    await trx
      .insertInto('tokens')
      .values({ hash: hashToken(token), id, user_id: row.id, name: parsed.name, kind: 'api', scopes: JSON.stringify(scopes), created_at: now.toISOString(), expires_at: expiresAt, last_used_at: null })
      .execute();
    await audit(ctx, trx, { actor: by.name, type: 'token.created', outcome: 'created', data: { user: row.name, token: id, name: parsed.name, scopes, expiresAt } });
    return row;
  });
  return { id, name: parsed.name, user: owner.name, kind: 'api', scopes, createdAt: now.toISOString(), expiresAt, lastUsedAt: null, token };
}

/** The caller's tokens; an admin may name a user (`?user=`) to see theirs. */
export async function listTokens(ctx: Context, by: Actor, userName?: string): Promise<TokenInfo[]> {
  let ownerId = by.id;
  if (userName !== undefined && userName !== by.name) {
    if (!isAdmin(by) || !by.scopes.includes('admin')) throw new GreenlightError('FORBIDDEN', 'Only an admin can list the tokens of another user.');
    const owner = await ctx.store.db.selectFrom('users').select('id').where('name', '=', userName).executeTakeFirst();
    if (!owner) throw new GreenlightError('NOT_FOUND', `No user "${userName}".`);
    ownerId = owner.id;
  }
  const rows = await tokensWithUsers(ctx).where('tokens.user_id', '=', ownerId).orderBy('tokens.created_at').execute();
  return rows.map(toTokenInfo);
}

/** Ends a token at once: its holder's next call is refused and their sockets reconnect (and fail with it). */
export async function revokeToken(ctx: Context, by: Actor, tokenId: string): Promise<TokenInfo> {
  const revoked = await inTransaction(ctx, async (trx) => {
    const row = await trx
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .selectAll('tokens')
      .select(['users.name as user_name', 'users.roles', 'users.service'])
      .where('tokens.id', '=', tokenId)
      .executeTakeFirst();
    const mayRevoke = row && (row.user_id === by.id || (isAdmin(by) && by.scopes.includes('admin')));
    if (!row || !mayRevoke) throw new GreenlightError('NOT_FOUND', `No token "${tokenId}" of yours.`);
    await trx.deleteFrom('tokens').where('id', '=', tokenId).execute();
    await audit(ctx, trx, { actor: by.name, type: 'token.revoked', outcome: 'revoked', data: { user: row.user_name, token: tokenId, name: row.name, kind: row.kind } });
    return row;
  });
  ctx.actors?.forgetToken(tokenId);
  ctx.bus.emit({ type: 'user.changed', userId: revoked.user_id });
  return toTokenInfo(revoked);
}
