import { sql, type Kysely, type Transaction } from 'kysely';
import { z } from 'zod';
import { ROLES, USER_ID_PREFIX, type Role } from '../../protocol/index.js';
import type { Database, UsersTable } from './schema.js';
import { readAhead } from './pipelined-postgres.js';
import { inLists } from './in-lists.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** A user as the hub works with them: roles decoded, the disabled flag a boolean. */
export interface UserRecord {
  id: string;
  name: string;
  roles: Role[];
  disabled: boolean;
  email: string | null;
  slackUserId: string | null;
  /** A machine account: tokens only, never an approver. */
  service: boolean;
  /** The identity provider's `sub` for a user who signs in with it; null for users made by hand. */
  oidcSubject: string | null;
  lastSeenAt: string | null;
  createdAt: string;
}

/** An active user a policy name reaches: through a group they are in (`group`), or by their own name (null). */
export type ReachedUser = Pick<UserRecord, 'id' | 'name' | 'roles'> & { group: string | null };

const reachedByQuery = (db: Executor, names: string[]) =>
  db
    .selectFrom('users')
    .leftJoin('user_groups', 'user_groups.user_id', 'users.id')
    .select(['users.id', 'users.name', 'users.roles', 'user_groups.group_name'])
    .where('users.disabled', '=', 0)
    .where((eb) => eb.or([eb('user_groups.group_name', 'in', names), eb('users.name', 'in', names)]))
    .compile();

const toReachedUser = (row: { id: string; name: string; roles: string; group_name: string | null }): ReachedUser => ({ id: row.id, name: row.name, roles: decodeRoles(row.roles), group: row.group_name });

const rolesSchema = z.array(z.enum(ROLES));

/** The `roles` column holds a JSON array; a row that does not is a damaged database, and says so. */
export function decodeRoles(text: string): Role[] {
  return rolesSchema.parse(JSON.parse(text));
}

export function toUserRecord(row: UsersTable): UserRecord {
  return {
    id: row.id,
    name: row.name,
    roles: decodeRoles(row.roles),
    disabled: row.disabled === 1,
    email: row.email ?? null,
    slackUserId: row.slack_user_id ?? null,
    service: row.service === 1,
    oidcSubject: row.oidc_subject ?? null,
    lastSeenAt: row.last_seen_at ?? null,
    createdAt: row.created_at,
  };
}

/** The users and their groups (tables `users`, `user_groups`): rows in, typed records out. */
export const userStore = {
  /**
   * An id (`usr_…`) names the user with that id before one whose name merely looks like it; a user
   * named so before such names were refused is still found by name when no id matches.
   */
  async byIdOrName(db: Executor, idOrName: string): Promise<UserRecord | undefined> {
    if (!idOrName.startsWith(USER_ID_PREFIX)) return this.byName(db, idOrName);
    return (await this.byId(db, idOrName)) ?? (await this.byName(db, idOrName));
  },

  async byId(db: Executor, id: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUserRecord(row);
  },

  async byName(db: Executor, name: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toUserRecord(row);
  },

  /** The name of a user whose name is this one but for case, if there is one. */
  async nameLike(db: Executor, name: string): Promise<string | undefined> {
    const row = await db.selectFrom('users').select('name').where(sql<string>`lower(name)`, '=', name.toLowerCase()).executeTakeFirst();
    return row?.name;
  },

  /**
   * The users linked to a Slack member, by name: one, or none. Two only if the database was edited
   * past the unique index; two are enough to show the link is ambiguous, so no more are read.
   */
  async holdersOfSlackUserId(db: Executor, slackUserId: string): Promise<UserRecord[]> {
    const rows = await db.selectFrom('users').selectAll().where('slack_user_id', '=', slackUserId).orderBy('name').limit(2).execute();
    return rows.map(toUserRecord);
  },

  /**
   * The one user, disabled or not, whose email is this one in any case; none when two share it, as
   * a click matched by email would then be ambiguous.
   */
  async byEmail(db: Executor, email: string): Promise<UserRecord | undefined> {
    const lowered = email.toLowerCase();
    const [row, another] = await db.selectFrom('users').selectAll().where(sql<string>`lower(email)`, '=', lowered).limit(2).execute();
    return row && !another && row.email?.toLowerCase() === lowered ? toUserRecord(row) : undefined;
  },

  async active(db: Executor): Promise<UserRecord[]> {
    return (await db.selectFrom('users').selectAll().where('disabled', '=', 0).execute()).map(toUserRecord);
  },

  async all(db: Executor): Promise<UserRecord[]> {
    return (await db.selectFrom('users').selectAll().orderBy('name').execute()).map(toUserRecord);
  },

  /** The user a token hash belongs to, disabled or not. */
  async byTokenHash(db: Executor, tokenHash: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('tokens').innerJoin('users', 'users.id', 'tokens.user_id').selectAll('users').where('tokens.hash', '=', tokenHash).executeTakeFirst();
    return row && toUserRecord(row);
  },

  /** Active users in any of these groups or named any of these names, once per group that reaches them (null: by name). */
  async activeReachedBy(db: Executor, names: string[]): Promise<ReachedUser[]> {
    if (names.length === 0) return [];
    return (await db.executeQuery(reachedByQuery(db, names))).rows.map(toReachedUser);
  },

  /** activeReachedBy, sent ahead of the transaction's next statement (`readAhead`). */
  async activeReachedByAhead(trx: Transaction<Database>, names: string[]): Promise<ReachedUser[]> {
    if (names.length === 0) return [];
    return (await readAhead(trx, reachedByQuery(trx, names))).map(toReachedUser);
  },

  /** Whether the user exists and is not disabled, sent ahead of the transaction's next statement (`readAhead`). */
  async isEnabledAhead(trx: Transaction<Database>, id: string): Promise<boolean> {
    const [row] = await readAhead(trx, trx.selectFrom('users').select('disabled').where('id', '=', id).compile());
    return row?.disabled === 0;
  },

  /** Active users named in `names` or members of any of `groups`, once each, by name. */
  async activeNamedOrInGroups(db: Executor, names: string[], groups: string[]): Promise<UserRecord[]> {
    if (names.length === 0 && groups.length === 0) return [];
    const rows = await db
      .selectFrom('users')
      .selectAll()
      .where('disabled', '=', 0)
      .where((eb) =>
        eb.or([
          ...(names.length ? [eb('name', 'in', names)] : []),
          ...(groups.length ? [eb('id', 'in', eb.selectFrom('user_groups').select('user_id').where('group_name', 'in', groups))] : []),
        ]),
      )
      // One order on every hub and database: messages go out, and retries resume, in the same order.
      .orderBy('name')
      .execute();
    return rows.map(toUserRecord);
  },

  /** Ids of the active admins; on PostgreSQL their rows stay locked to the end of the transaction. */
  async activeAdminIds(db: Executor, lock: boolean): Promise<string[]> {
    let query = db.selectFrom('users').select(['id']).where('disabled', '=', 0).where('roles', 'like', '%"admin"%').orderBy('id');
    if (lock) query = query.forUpdate();
    return (await query.execute()).map((row) => row.id);
  },

  async insert(db: Executor, user: Pick<UserRecord, 'id' | 'name' | 'roles' | 'email' | 'slackUserId' | 'service' | 'createdAt'>): Promise<void> {
    await db
      .insertInto('users')
      .values({ id: user.id, name: user.name, roles: JSON.stringify(user.roles), disabled: 0, created_at: user.createdAt, email: user.email, slack_user_id: user.slackUserId, service: user.service ? 1 : 0 })
      .execute();
  },

  async update(db: Executor, id: string, changes: Partial<Pick<UserRecord, 'roles' | 'email' | 'slackUserId' | 'disabled'>>): Promise<void> {
    await db
      .updateTable('users')
      .set({
        ...(changes.roles ? { roles: JSON.stringify(changes.roles) } : {}),
        ...(changes.email !== undefined ? { email: changes.email } : {}),
        ...(changes.slackUserId !== undefined ? { slack_user_id: changes.slackUserId } : {}),
        ...(changes.disabled !== undefined ? { disabled: changes.disabled ? 1 : 0 } : {}),
      })
      .where('id', '=', id)
      .execute();
  },

  /** These users, disabled or not, each with their groups: one read for the lot (ids not found are absent). */
  async withGroupsByIds(db: Executor, userIds: string[]): Promise<{ user: UserRecord; groups: string[] }[]> {
    const found = new Map<string, { user: UserRecord; groups: string[] }>();
    for (const ids of inLists([...new Set(userIds)])) {
      const rows = await db.selectFrom('users').leftJoin('user_groups', 'user_groups.user_id', 'users.id').selectAll('users').select('user_groups.group_name').where('users.id', 'in', ids).execute();
      for (const { group_name: group, ...row } of rows) {
        const entry = found.get(row.id) ?? { user: toUserRecord(row), groups: [] };
        if (group !== null) entry.groups.push(group);
        found.set(row.id, entry);
      }
    }
    return [...found.values()];
  },

  async groupsOf(db: Executor, userId: string): Promise<string[]> {
    return (await db.selectFrom('user_groups').select('group_name').where('user_id', '=', userId).execute()).map((row) => row.group_name);
  },

  /** The groups of each of these users, by id (users in none are absent). */
  async groupsOfUsers(db: Executor, userIds: string[]): Promise<Map<string, string[]>> {
    const groups = new Map<string, string[]>();
    for (const ids of inLists([...new Set(userIds)])) {
      for (const row of await db.selectFrom('user_groups').select(['user_id', 'group_name']).where('user_id', 'in', ids).execute()) {
        groups.set(row.user_id, [...(groups.get(row.user_id) ?? []), row.group_name]);
      }
    }
    return groups;
  },

  /** Every membership, for listing users with their groups. */
  async memberships(db: Executor): Promise<{ userId: string; group: string }[]> {
    return (await db.selectFrom('user_groups').select(['user_id', 'group_name']).execute()).map((row) => ({ userId: row.user_id, group: row.group_name }));
  },
};
