import type { Transaction } from 'kysely';
import { GreenlightError, parseOrThrow, userUpdateSchema, type Role, type User } from '../../protocol/index.js';
import type { Database, UsersTable } from '../store/schema.js';
import { audit, inTransaction, type Context } from './context.js';
import type { Actor } from './actor.js';
import { requireAdmin, toUser } from './users.js';

/** An admin changes who someone is (email, roles, groups), disables them or lets them back in. Every change is audited. */

type Trx = Transaction<Database>;

async function findUser(trx: Trx, idOrName: string): Promise<UsersTable> {
  const row = await trx.selectFrom('users').selectAll().where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)])).executeTakeFirst();
  if (!row) throw new GreenlightError('NOT_FOUND', `No user "${idOrName}".`);
  return row;
}

async function groupsOf(trx: Trx, userId: string): Promise<string[]> {
  const rows = await trx.selectFrom('user_groups').select('group_name').where('user_id', '=', userId).execute();
  return rows.map((row) => row.group_name);
}

const rolesOf = (row: UsersTable): Role[] => JSON.parse(row.roles) as Role[];
const isActiveAdmin = (row: UsersTable): boolean => row.disabled === 0 && rolesOf(row).includes('admin');

/**
 * Refuses a change that would take `target` out of the active admins when nobody else is one.
 * On PostgreSQL the active admins' rows are locked first, so two admins demoting each other at the
 * same moment run one after the other and the second sees the first's change; SQLite runs one
 * writer at a time anyway.
 */
async function keepAnAdmin(ctx: Context, trx: Trx, by: Actor, target: UsersTable, what: string): Promise<void> {
  let query = trx.selectFrom('users').select(['id']).where('disabled', '=', 0).where('roles', 'like', '%"admin"%').orderBy('id');
  if (ctx.store.dialect === 'postgres') query = query.forUpdate();
  const admins = await query.execute();
  if (admins.some((admin) => admin.id !== target.id)) return;
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
    const roles = rolesOf(row);
    const nextRoles = update.roles ? [...new Set(update.roles)] : roles;
    const nextGroups = update.groups ? [...new Set(update.groups)] : groups;
    const nextEmail = update.email === undefined ? row.email : update.email;
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    if (!sameList(roles, nextRoles)) changes.roles = { from: roles, to: nextRoles };
    if (!sameList(groups, nextGroups)) changes.groups = { from: groups, to: nextGroups };
    if ((row.email ?? null) !== (nextEmail ?? null)) changes.email = { from: row.email ?? null, to: nextEmail ?? null };
    if (Object.keys(changes).length === 0) return { user: toUser(row, groups), changed: false, accessChanged: false };

    if (row.service === 1 && nextRoles.some((role) => role !== 'requester')) {
      throw new GreenlightError('FORBIDDEN', `${row.name} is a service user: it can only be a requester, never an approver.`);
    }
    if (isActiveAdmin(row) && !nextRoles.includes('admin')) {
      await keepAnAdmin(ctx, trx, by, row, 'removing the admin role');
      if (row.id === by.id) throw new GreenlightError('FORBIDDEN', 'You cannot remove your own admin role; ask another admin to do it.');
    }
    await trx.updateTable('users').set({ roles: JSON.stringify(nextRoles), email: nextEmail ?? null }).where('id', '=', row.id).execute();
    if (changes.groups) {
      await trx.deleteFrom('user_groups').where('user_id', '=', row.id).execute();
      if (nextGroups.length) await trx.insertInto('user_groups').values(nextGroups.map((group_name) => ({ user_id: row.id, group_name }))).execute();
    }
    await audit(ctx, trx, { actor: by.name, type: 'user.updated', outcome: 'updated', data: { user: row.name, changes } });
    const user = toUser({ ...row, roles: JSON.stringify(nextRoles), email: nextEmail ?? null }, nextGroups);
    if (row.oidc_subject !== null && (changes.roles || changes.groups)) {
      user.warnings = [
        `${row.name} signs in with the identity provider: each sign-in sets their roles and groups again from oidc.roleMapping and their groups there, so this change lasts only until their next sign-in. Change their groups in the identity provider to make it stick.`,
      ];
    }
    return { user, changed: true, accessChanged: Boolean(changes.roles || changes.groups) };
  });
  // The next call with their token reads them afresh; live sockets reconnect only when what they may see changed.
  if (outcome.changed) ctx.actors?.forgetUser(outcome.user.id);
  if (outcome.accessChanged) ctx.bus.emit({ type: 'user.changed', userId: outcome.user.id });
  return outcome.user;
}

export async function disableUser(ctx: Context, by: Actor, idOrName: string): Promise<User> {
  requireAdmin(by);
  const user = await inTransaction(ctx, async (trx) => {
    const row = await findUser(trx, idOrName);
    if (isActiveAdmin(row)) await keepAnAdmin(ctx, trx, by, row, row.id === by.id ? 'disabling yourself' : `disabling ${row.name}`);
    if (row.id === by.id) throw new GreenlightError('FORBIDDEN', 'You cannot disable yourself; ask another admin.');
    await trx.updateTable('users').set({ disabled: 1 }).where('id', '=', row.id).execute();
    await audit(ctx, trx, { actor: by.name, type: 'user.disabled', outcome: 'disabled', data: { user: row.name } });
    return toUser({ ...row, disabled: 1 }, await groupsOf(trx, row.id));
  });
  ctx.actors?.forgetUser(user.id);
  ctx.bus.emit({ type: 'user.disabled', userId: user.id });
  return user;
}

/** Lets a disabled user back in: their existing token works again. Enabling an active user changes nothing. */
export async function enableUser(ctx: Context, by: Actor, idOrName: string): Promise<User> {
  requireAdmin(by);
  return inTransaction(ctx, async (trx) => {
    const row = await findUser(trx, idOrName);
    const groups = await groupsOf(trx, row.id);
    if (row.disabled === 0) return toUser(row, groups);
    await trx.updateTable('users').set({ disabled: 0 }).where('id', '=', row.id).execute();
    await audit(ctx, trx, { actor: by.name, type: 'user.enabled', outcome: 'enabled', data: { user: row.name } });
    return toUser({ ...row, disabled: 0 }, groups);
  });
}
