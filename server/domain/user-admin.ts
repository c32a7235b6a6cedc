import type { Transaction } from 'kysely';
import { GreenlightError, parseOrThrow, userUpdateSchema, type CreatedToken, type User } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { userStore, type UserRecord } from '../store/users.js';
import { audit, inTransaction, type Context } from './context.js';
import type { Actor } from './actor.js';
import { refuseTakenSlackId, requireAdmin, toUser } from './users.js';
import { announceDisabled, disableIn, refreshDelegates, withdrawWhatAccessNoLongerAllows, type Offboarded } from './offboarding.js';
import { announceChanged, changedRequest } from './lifecycle/after-commit.js';
import { revokeGrantsOf } from './grants.js';
import { tokenStore } from '../store/tokens.js';
import { scopesAllowed } from '../identity/scopes.js';
import { firstTokenRecord, generateToken } from './tokens.js';

/** An admin changes who someone is (email, roles, groups), disables them or lets them back in. Every change is audited. */

type Trx = Transaction<Database>;

async function findUser(trx: Trx, idOrName: string): Promise<UserRecord> {
  const user = await userStore.byIdOrName(trx, idOrName);
  if (!user) throw new GreenlightError('NOT_FOUND', `No user "${idOrName}".`);
  return user;
}

const groupsOf = (trx: Trx, userId: string): Promise<string[]> => userStore.groupsOf(trx, userId);
const isActiveAdmin = (user: UserRecord): boolean => !user.disabled && user.roles.includes('admin');

/**
 * Whether `userId` is an active admin and nobody else is. On PostgreSQL the active admins' rows are
 * locked first, so two admins demoting each other at the same moment run one after the other and
 * the second sees the first's change; SQLite runs one writer at a time anyway.
 */
export async function isLastActiveAdmin(ctx: Context, trx: Trx, userId: string): Promise<boolean> {
  const admins = await userStore.activeAdminIds(trx, ctx.store.dialect === 'postgres');
  return admins.length > 0 && admins.every((id) => id === userId);
}

/** Refuses a change that would take `target` out of the active admins when nobody else is one. */
async function keepAnAdmin(ctx: Context, trx: Trx, by: Actor, target: UserRecord, what: string): Promise<void> {
  if (!(await isLastActiveAdmin(ctx, trx, target.id))) return;
  const who = target.id === by.id ? 'You are' : `${target.name} is`;
  throw new GreenlightError('LAST_ADMIN', `${who} the last active admin: ${what} would leave nobody able to manage users. Make someone else an admin first.`);
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((item) => b.includes(item));

export async function updateUser(ctx: Context, by: Actor, idOrName: string, input: unknown): Promise<User> {
  requireAdmin(by);
  const update = parseOrThrow(userUpdateSchema, input, 'user change');
  const outcome = await inTransaction(ctx, async (trx) => {
    const row = await findUser(trx, idOrName);
    const groups = await groupsOf(trx, row.id);
    const roles = row.roles;
    const nextRoles = update.roles ? [...new Set(update.roles)] : roles;
    const nextGroups = update.groups ? [...new Set(update.groups)] : groups;
    const nextEmail = update.email === undefined ? row.email : update.email;
    const nextSlackUserId = update.slackUserId === undefined ? row.slackUserId : update.slackUserId;
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    if (!sameList(roles, nextRoles)) changes.roles = { from: roles, to: nextRoles };
    if (!sameList(groups, nextGroups)) changes.groups = { from: groups, to: nextGroups };
    if ((row.email ?? null) !== (nextEmail ?? null)) changes.email = { from: row.email ?? null, to: nextEmail ?? null };
    if ((row.slackUserId ?? null) !== (nextSlackUserId ?? null)) {
      if (nextSlackUserId) await refuseTakenSlackId(trx, nextSlackUserId, row.id);
      changes.slackUserId = { from: row.slackUserId ?? null, to: nextSlackUserId ?? null };
    }
    if (Object.keys(changes).length === 0) return { user: toUser(row, groups), changed: false, accessChanged: false, withdrawn: [] };

    if (row.service && nextRoles.some((role) => role !== 'requester')) {
      throw new GreenlightError('FORBIDDEN', `${row.name} is a service user: it can only be a requester, never an approver.`);
    }
    if (isActiveAdmin(row) && !nextRoles.includes('admin')) {
      await keepAnAdmin(ctx, trx, by, row, 'removing the admin role');
      if (row.id === by.id) throw new GreenlightError('FORBIDDEN', 'You cannot remove your own admin role; ask another admin to do it.');
    }
    await userStore.update(trx, row.id, { roles: nextRoles, email: nextEmail ?? null, slackUserId: nextSlackUserId ?? null });
    if (changes.groups) {
      await trx.deleteFrom('user_groups').where('user_id', '=', row.id).execute();
      if (nextGroups.length) await trx.insertInto('user_groups').values(nextGroups.map((group_name) => ({ user_id: row.id, group_name }))).execute();
    }
    await audit(ctx, trx, { actor: by.name, type: 'user.updated', outcome: 'updated', data: { user: row.name, changes } });
    const withdrawn = changes.roles || changes.groups ? await withdrawWhatAccessNoLongerAllows(ctx, trx, { id: row.id, name: row.name, roles: nextRoles, groups: nextGroups }, by.name) : [];
    const user = toUser({ ...row, roles: nextRoles, email: nextEmail ?? null, slackUserId: nextSlackUserId ?? null }, nextGroups);
    if (row.oidcSubject !== null && (changes.roles || changes.groups)) {
      user.warnings = [
        `${row.name} signs in with the identity provider: each sign-in sets their roles and groups again from oidc.roleMapping and their groups there, so this change lasts only until their next sign-in. Change their groups in the identity provider to make it stick.`,
      ];
    }
    return { user, changed: true, accessChanged: Boolean(changes.roles || changes.groups), withdrawn };
  });
  // The next call with their token reads them afresh; live sockets reconnect only when what they may see changed.
  if (outcome.changed) ctx.actors?.forgetUser(outcome.user.id);
  if (outcome.accessChanged) {
    ctx.bus.emit({ type: 'user.changed', userId: outcome.user.id });
    // Their delegations may have ended, or now follow other groups: pushes to delegates follow at once.
    await refreshDelegates(ctx);
    await announceChanged(ctx, outcome.withdrawn);
  }
  return outcome.user;
}

export async function disableUser(ctx: Context, by: Actor, idOrName: string): Promise<User> {
  requireAdmin(by);
  const { user, offboarded } = await inTransaction(ctx, async (trx): Promise<{ user: User; offboarded: Offboarded }> => {
    const row = await findUser(trx, idOrName);
    if (isActiveAdmin(row)) await keepAnAdmin(ctx, trx, by, row, row.id === by.id ? 'disabling yourself' : `disabling ${row.name}`);
    if (row.id === by.id) throw new GreenlightError('FORBIDDEN', 'You cannot disable yourself; ask another admin.');
    const groups = await groupsOf(trx, row.id);
    // Already disabled: nothing is written again, but sockets are closed again, in case an earlier try failed to.
    if (row.disabled) return { user: toUser(row, groups), offboarded: { userId: row.id, changed: [] } };
    return { user: toUser({ ...row, disabled: true }, groups), offboarded: await disableIn(ctx, trx, row, by.name) };
  });
  await announceDisabled(ctx, offboarded);
  return user;
}

/**
 * Lets a disabled user back in: their existing token works again. Enabling an active user changes
 * nothing. What disabling ended stays ended: a grant still active now can only have been issued by a
 * call that raced the disable, and is revoked rather than brought back.
 */
export async function enableUser(ctx: Context, by: Actor, idOrName: string): Promise<User> {
  requireAdmin(by);
  const { user, changed } = await inTransaction(ctx, async (trx) => {
    const row = await findUser(trx, idOrName);
    const groups = await groupsOf(trx, row.id);
    if (!row.disabled) return { user: toUser(row, groups), changed: [] };
    await userStore.update(trx, row.id, { disabled: false });
    await audit(ctx, trx, { actor: by.name, type: 'user.enabled', outcome: 'enabled', data: { user: row.name } });
    const changed = await revokeGrantsOf(ctx, trx, row.id, by.name, `issued while ${row.name} was being disabled`);
    return { user: toUser({ ...row, disabled: false }, groups), changed };
  });
  await announceChanged(ctx, changed.map((id) => changedRequest(id)));
  return user;
}

/**
 * A new sign-in token for a person who lost theirs or whose token leaked: their earlier sign-in
 * tokens stop working at once (named tokens they made stay). Shown once, to the admin, to hand over.
 */
export async function reissueSignInToken(ctx: Context, by: Actor, idOrName: string): Promise<CreatedToken> {
  requireAdmin(by);
  // A named API token of an admin's would otherwise trade itself for a sign-in that never expires.
  if (by.tokenKind === 'api') throw new GreenlightError('FORBIDDEN', 'A named API token cannot issue sign-in tokens; use your sign-in (the console, or your first token).');
  const token = generateToken();
  const now = ctx.clock.now();
  const record = firstTokenRecord(token, '', now);
  const { owner, replaced } = await inTransaction(ctx, async (trx) => {
    const row = await findUser(trx, idOrName);
    if (row.service) throw new GreenlightError('FORBIDDEN', `${row.name} is a service user: it has no sign-in token. Make it a named token instead (greenlight token create --user ${row.name}).`);
    if (row.disabled) throw new GreenlightError('FORBIDDEN', `${row.name} is disabled; enable them before issuing a sign-in token.`);
    const replaced = (await tokenStore.ofUser(trx, row.id)).filter(({ token: old }) => old.kind === 'user').map(({ token: old }) => old.id);
    for (const id of replaced) await tokenStore.delete(trx, id);
    await tokenStore.insert(trx, { ...record, userId: row.id });
    await audit(ctx, trx, { actor: by.name, type: 'token.created', outcome: 'created', data: { user: row.name, token: record.id, name: record.name, kind: 'user', replaced } });
    return { owner: row, replaced };
  });
  for (const id of replaced) ctx.actors?.forgetToken(id);
  if (replaced.length) ctx.bus.emit({ type: 'user.changed', userId: owner.id });
  return { id: record.id, name: record.name, user: owner.name, kind: 'user', scopes: scopesAllowed(owner.roles, owner.service), createdAt: record.createdAt, expiresAt: null, lastUsedAt: null, token };
}
