import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import { decidesAnything, type Role } from '../../protocol/index.js';
import { decodeStringList } from './json.js';
import type { Database, DelegationsTable } from './schema.js';
import { decodeRoles, userStore } from './users.js';
import { inLists } from './in-lists.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** A delegation as the hub works with it: the rules it covers decoded (null: every rule). */
export interface DelegationRecord {
  id: string;
  fromId: string;
  fromName: string;
  toId: string;
  toName: string;
  startsAt: string;
  endsAt: string;
  rules: string[] | null;
  reason: string;
  createdBy: string;
  createdAt: string;
  endedAt: string | null;
  endedBy: string | null;
}

/** A delegator as the rules see them: roles and groups, read with the delegation. */
export interface Delegating {
  id: string;
  name: string;
  roles: Role[];
  groups: string[];
  email: string | null;
}

/** A delegate as a channel reaches them. */
export interface DelegateContact {
  id: string;
  name: string;
  email: string | null;
  slackUserId: string | null;
}

const decodeRules = (text: string | null): string[] | null => (text ? decodeStringList(text, 'delegation rules', 'rule names') : null);

export function toDelegationRecord(row: DelegationsTable): DelegationRecord {
  return {
    id: row.id,
    fromId: row.from_id,
    fromName: row.from_name,
    toId: row.to_id,
    toName: row.to_name,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    rules: decodeRules(row.rules),
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
  };
}

/** Delegations in force at `iso`: not ended, begun, not yet over. */
function inForce<O>(query: SelectQueryBuilder<Database, 'delegations' | 'users', O>, iso: string): SelectQueryBuilder<Database, 'delegations' | 'users', O> {
  return query.where('delegations.ended_at', 'is', null).where('delegations.starts_at', '<=', iso).where('delegations.ends_at', '>', iso);
}

/** Each delegation with its delegator as they are now (name, roles, groups); `rows` joined `users` on the delegator. */
async function withDelegators(db: Executor, rows: (DelegationsTable & { user_name: string; roles: string; email: string | null })[]): Promise<{ delegation: DelegationRecord; delegator: Delegating }[]> {
  const groups = await userStore.groupsOfUsers(db, [...new Set(rows.map((row) => row.from_id))]);
  return rows.map((row) => ({
    delegation: toDelegationRecord(row),
    delegator: { id: row.from_id, name: row.user_name, roles: decodeRoles(row.roles), groups: groups.get(row.from_id) ?? [], email: row.email },
  }));
}

/** The delegations (table `delegations`): rows in, typed records out. */
export const delegationStore = {
  async insert(db: Executor, delegation: DelegationRecord): Promise<void> {
    await db
      .insertInto('delegations')
      .values({
        id: delegation.id,
        from_id: delegation.fromId,
        from_name: delegation.fromName,
        to_id: delegation.toId,
        to_name: delegation.toName,
        starts_at: delegation.startsAt,
        ends_at: delegation.endsAt,
        rules: delegation.rules ? JSON.stringify(delegation.rules) : null,
        reason: delegation.reason,
        created_by: delegation.createdBy,
        created_at: delegation.createdAt,
        ended_at: delegation.endedAt,
        ended_by: delegation.endedBy,
      })
      .execute();
  },

  async byId(db: Executor, id: string): Promise<DelegationRecord | undefined> {
    const row = await db.selectFrom('delegations').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelegationRecord(row);
  },

  /** Newest first: those from or to `userId`, or everyone's when null. */
  async list(db: Executor, userId: string | null, limit: number): Promise<DelegationRecord[]> {
    let select = db.selectFrom('delegations').selectAll();
    if (userId !== null) select = select.where((eb) => eb.or([eb('from_id', '=', userId), eb('to_id', '=', userId)]));
    return (await select.orderBy('created_at', 'desc').limit(limit).execute()).map(toDelegationRecord);
  },

  /** Ends a delegation not ended yet; false when someone ended it first. */
  async end(db: Executor, id: string, at: string, by: string): Promise<boolean> {
    const updated = await db.updateTable('delegations').set({ ended_at: at, ended_by: by }).where('id', '=', id).where('ended_at', 'is', null).executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  },

  /** Not ended and not yet over at `iso`, from or to this user. */
  async notOverOf(db: Executor, userId: string, iso: string): Promise<DelegationRecord[]> {
    const rows = await db
      .selectFrom('delegations')
      .selectAll()
      .where((eb) => eb.or([eb('from_id', '=', userId), eb('to_id', '=', userId)]))
      .where('ended_at', 'is', null)
      .where('ends_at', '>', iso)
      .execute();
    return rows.map(toDelegationRecord);
  },

  /** In force at `iso` to this delegate from users still active, oldest first, with each delegator. */
  async inForceTo(db: Executor, delegateId: string, iso: string): Promise<{ delegation: DelegationRecord; delegator: Delegating }[]> {
    return (await this.inForceToEach(db, [delegateId], iso)).get(delegateId) ?? [];
  },

  /** inForceTo for each of these delegates, read together: by delegate id (those with none are absent). */
  async inForceToEach(db: Executor, delegateIds: string[], iso: string): Promise<Map<string, { delegation: DelegationRecord; delegator: Delegating }[]>> {
    const query = db.selectFrom('delegations').innerJoin('users', 'users.id', 'delegations.from_id').selectAll('delegations').select(['users.name as user_name', 'users.roles', 'users.email']);
    const rows = [];
    for (const ids of inLists([...new Set(delegateIds)])) {
      rows.push(...(await inForce(query, iso).where('delegations.to_id', 'in', ids).where('users.disabled', '=', 0).orderBy('delegations.created_at').execute()));
    }
    const each = new Map<string, { delegation: DelegationRecord; delegator: Delegating }[]>();
    // Each delegate's rows come from one list, so stay oldest first.
    for (const found of await withDelegators(db, rows)) each.set(found.delegation.toId, [...(each.get(found.delegation.toId) ?? []), found]);
    return each;
  },

  /** In force at `iso` from these delegators, to active users other than `notTo`, with each delegate's contact; earliest made first. */
  async inForceFrom(db: Executor, delegatorIds: string[], notTo: string, iso: string): Promise<{ delegation: DelegationRecord; delegate: DelegateContact }[]> {
    const query = db.selectFrom('delegations').innerJoin('users', 'users.id', 'delegations.to_id').selectAll('delegations').select(['users.name as user_name', 'users.email', 'users.slack_user_id', 'users.roles']);
    const rows = [];
    for (const ids of inLists(delegatorIds)) {
      rows.push(...(await inForce(query, iso).where('delegations.from_id', 'in', ids).where('delegations.to_id', '!=', notTo).where('users.disabled', '=', 0).orderBy('delegations.created_at').execute()));
    }
    // Read in several lists, the rows are put back in the order one statement would give (the sort is stable).
    rows.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
    // A delegate made a requester since decides nothing, so hears nothing as a delegate.
    return rows.filter((row) => decidesAnything(decodeRoles(row.roles))).map((row) => ({ delegation: toDelegationRecord(row), delegate: { id: row.to_id, name: row.user_name, email: row.email, slackUserId: row.slack_user_id } }));
  },

  /**
   * Not ended and not yet over at `iso` (begun or still to begin), from active users to active users
   * who decide anything, with each delegator.
   */
  async notOver(db: Executor, iso: string): Promise<{ delegation: DelegationRecord; delegator: Delegating }[]> {
    const rows = await db
      .selectFrom('delegations')
      .innerJoin('users', 'users.id', 'delegations.from_id')
      .innerJoin('users as delegate', 'delegate.id', 'delegations.to_id')
      .selectAll('delegations')
      .select(['users.name as user_name', 'users.roles', 'users.email', 'delegate.roles as delegate_roles'])
      .where('delegations.ended_at', 'is', null)
      .where('delegations.ends_at', '>', iso)
      .where('users.disabled', '=', 0)
      .where('delegate.disabled', '=', 0)
      .execute();
    return withDelegators(
      db,
      rows.filter((row) => decidesAnything(decodeRoles(row.delegate_roles))),
    );
  },
};
