import { sql, type Kysely, type Transaction } from 'kysely';
import { whoDecided, type FrozenRule, type RequestContext, type RequestStatus, type Risk } from '../../protocol/index.js';
import { deferInsert, writeDeferred } from './deferred-inserts.js';
import { insertRow } from './prepared-insert.js';
import type { Database, RequestsTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** The columns the row holds encoded: JSON text, or text that holds one of a closed set. */
type Encoded = 'rule' | 'eligible_groups' | 'eligible_users' | 'context' | 'risk' | 'status';

/**
 * A request as the hub works with it: the row with its encoded columns decoded. The fields keep the
 * column names, so a record and its row line up one to one (the versioned update sets the changed
 * fields as they are named) and the code that moved to records changed only where it decoded.
 */
export interface RequestRecord extends Omit<RequestsTable, Encoded> {
  rule: FrozenRule;
  eligible_groups: string[];
  eligible_users: string[];
  context: RequestContext;
  risk: Risk;
  status: RequestStatus;
}

/**
 * Every encoded column was written by the hub from a value that had passed its schema (submission,
 * policy), so it is read back as written rather than parsed again: this runs for every request of a
 * sync, once per row read.
 */
export function toRequestRecord(row: RequestsTable): RequestRecord {
  return {
    ...row,
    rule: JSON.parse(row.rule) as FrozenRule,
    eligible_groups: JSON.parse(row.eligible_groups) as string[],
    eligible_users: JSON.parse(row.eligible_users) as string[],
    context: JSON.parse(row.context) as RequestContext,
    risk: row.risk as Risk,
    status: row.status as RequestStatus,
  };
}

/** Who decided a request, as people read it: "dana for sue" when a delegate decided for sue; null while nobody has. */
export function whoDecidedRecord(record: Pick<RequestRecord, 'decided_by' | 'decided_for'>): string | null {
  return whoDecided({ decidedBy: record.decided_by, decidedFor: record.decided_for ?? undefined });
}

/** The row a record is written as. */
export function toRequestRow(record: RequestRecord): RequestsTable {
  return {
    ...record,
    rule: JSON.stringify(record.rule),
    eligible_groups: JSON.stringify(record.eligible_groups),
    eligible_users: JSON.stringify(record.eligible_users),
    context: JSON.stringify(record.context),
  };
}

/** The columns a change of some fields writes (encoded ones as text). */
export type RequestChanges = Partial<Omit<RequestRecord, 'id'>>;

function toRowChanges(changes: RequestChanges): Partial<RequestsTable> {
  const { rule, eligible_groups, eligible_users, context, ...plain } = changes;
  return {
    ...plain,
    ...(rule !== undefined ? { rule: JSON.stringify(rule) } : {}),
    ...(eligible_groups !== undefined ? { eligible_groups: JSON.stringify(eligible_groups) } : {}),
    ...(eligible_users !== undefined ? { eligible_users: JSON.stringify(eligible_users) } : {}),
    ...(context !== undefined ? { context: JSON.stringify(context) } : {}),
  };
}

/** A name looked for among a request's eligible approvers: a group, or a person named directly. */
export interface EligibleName {
  in: 'eligible_groups' | 'eligible_users';
  name: string;
}

/** `%`, `_` and the escape character itself match only themselves. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

/**
 * JSON arrays are stored as text, so membership is a LIKE on the quoted name: portable across both
 * databases. It narrows; the caller decides on the decoded record (SQLite's LIKE ignores ASCII case).
 */
const likeOf = (eligible: EligibleName) => sql<boolean>`${sql.ref(eligible.in)} like ${`%${escapeLike(JSON.stringify(eligible.name))}%`} escape '\\'`;

/** A request as a sync first reads it: enough to choose it, not to show it. */
export type RequestRef = Pick<RequestRecord, 'id' | 'version'>;

export interface RequestPage {
  status?: string;
  /** Only the requests this requester asked for, or (with `orEligible`) also those naming one of these approvers. */
  requesterId?: string;
  orEligible?: EligibleName[];
  /** Ids below this one (ids are time-ordered). */
  before?: string;
  limit: number;
}

/** The requests table: rows in, typed records out. */
export const requestStore = {
  async byId(db: Executor, id: string): Promise<RequestRecord | undefined> {
    const row = await db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRequestRecord(row);
  },

  /** A request known to exist (one just written): a missing one is a fault, and throws. */
  async existing(db: Executor, id: string): Promise<RequestRecord> {
    return toRequestRecord(await db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  },

  /** The requests with these ids, in no particular order. */
  async byIds(db: Executor, ids: string[]): Promise<RequestRecord[]> {
    if (ids.length === 0) return [];
    return (await db.selectFrom('requests').selectAll().where('id', 'in', ids).execute()).map(toRequestRecord);
  },

  /** The request this requester submitted with this idempotency key, including one still queued in this group commit. */
  async byIdempotencyKey(trx: Transaction<Database>, requesterId: string, key: string): Promise<RequestRecord | undefined> {
    await writeDeferred(trx, 'requests');
    const row = await trx.selectFrom('requests').selectAll().where('requester_id', '=', requesterId).where('idempotency_key', '=', key).executeTakeFirst();
    return row && toRequestRecord(row);
  },

  async insert(db: Executor, dialect: string, record: RequestRecord): Promise<void> {
    await insertRow(db, dialect, 'requests', toRequestRow(record));
  },

  /** Queued with the group commit's other submissions, written as one multi-row insert (see deferred-inserts). */
  deferInsert(trx: Transaction<Database>, dialect: string, record: RequestRecord): void {
    deferInsert(trx, dialect, 'requests', toRequestRow(record));
  },

  /** Writes the requests still queued in this transaction, before reading the table. */
  async writeDeferred(trx: Transaction<Database>): Promise<void> {
    await writeDeferred(trx, 'requests');
  },

  /**
   * Writes `changes` and the next version, only while the row is still at the version `current` was
   * read at. False when a concurrent change got there first.
   */
  async updateVersioned(trx: Transaction<Database>, current: Pick<RequestRecord, 'id' | 'version'>, changes: RequestChanges, version: number): Promise<boolean> {
    const result = await trx.updateTable('requests').set({ ...toRowChanges(changes), version }).where('id', '=', current.id).where('version', '=', current.version).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  /** Something the request shows changed outside its own row (its grant): clients keep the higher version. */
  async bumpVersion(trx: Transaction<Database>, id: string, updatedAt: string): Promise<void> {
    await trx
      .updateTable('requests')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: updatedAt }))
      .where('id', '=', id)
      .execute();
  },

  /** A request extending this grant that is still pending or approved, if there is one. */
  async liveExtensionOf(db: Executor, jti: string): Promise<Pick<RequestRecord, 'id' | 'status'> | undefined> {
    const row = await db.selectFrom('requests').select(['id', 'status']).where('extends_jti', '=', jti).where('status', 'in', ['pending', 'approved']).executeTakeFirst();
    return row && { id: row.id, status: row.status as RequestStatus };
  },

  /** A requester's requests still waiting for a decision. */
  async pendingOf(db: Executor, requesterId: string): Promise<RequestRecord[]> {
    return (await db.selectFrom('requests').selectAll().where('requester_id', '=', requesterId).where('status', '=', 'pending').execute()).map(toRequestRecord);
  },

  /** Pending requests someone has claimed, by their name. */
  async pendingClaimedBy(db: Executor, name: string): Promise<RequestRecord[]> {
    return (await db.selectFrom('requests').selectAll().where('claim_by', '=', name).where('status', '=', 'pending').execute()).map(toRequestRecord);
  },

  /** Requests newest first, `limit` at most. */
  async page(db: Executor, query: RequestPage): Promise<RequestRecord[]> {
    let select = db.selectFrom('requests').selectAll();
    if (query.status) select = select.where('status', '=', query.status);
    const { requesterId, orEligible } = query;
    if (requesterId !== undefined) select = select.where((eb) => eb.or([eb('requester_id', '=', requesterId), ...(orEligible ?? []).map(likeOf)]));
    if (query.before) select = select.where('id', '<', query.before);
    return (await select.orderBy('id', 'desc').limit(query.limit).execute()).map(toRequestRecord);
  },

  /** Pending requests that may name one of these approvers, with who may decide them (to be checked on the record). */
  async pendingNaming(db: Executor, names: EligibleName[]): Promise<(RequestRef & Pick<RequestRecord, 'eligible_groups' | 'eligible_users'>)[]> {
    if (names.length === 0) return [];
    const rows = await db
      .selectFrom('requests')
      .select(['id', 'version', 'eligible_groups', 'eligible_users'])
      .where('status', '=', 'pending')
      .where((eb) => eb.or(names.map(likeOf)))
      .execute();
    return rows.map((row) => ({ id: row.id, version: row.version, eligible_groups: JSON.parse(row.eligible_groups) as string[], eligible_users: JSON.parse(row.eligible_users) as string[] }));
  },

  /** A requester's requests still pending or changed since `since`, newest first. */
  async openOrRecentOf(db: Executor, requesterId: string, since: string, limit: number): Promise<RequestRef[]> {
    return db
      .selectFrom('requests')
      .select(['id', 'version'])
      .where('requester_id', '=', requesterId)
      .where((eb) => eb.or([eb('status', '=', 'pending'), eb('updated_at', '>=', since)]))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  },
};
