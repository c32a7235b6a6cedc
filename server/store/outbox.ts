import type { Kysely, Transaction, Updateable } from 'kysely';
import { NOTIFICATION_STATUSES, type NotificationStatus } from '../../protocol/index.js';
import { insertBatches } from './insert-batches.js';
import { decodeOneOf } from './json.js';
import type { Database, OutboxTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/**
 * A notification as the hub works with it: counters as numbers (PostgreSQL may hand back bigints as
 * text), the status one of the known ones. The payload stays the text the endpoint sends.
 */
export interface OutboxRecord {
  id: string;
  /** The event it announces (`request.created`, `audit.checkpoint`, …). */
  type: string;
  channel: string;
  destination: string;
  requestId: string | null;
  payload: string;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: string;
  leaseUntil: string | null;
  leaseOwner: string | null;
  lastError: string | null;
  lastStatus: number | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

/** What filing an attempt or a retry changes on a row. */
export type OutboxChanges = Partial<Pick<OutboxRecord, 'status' | 'attempts' | 'nextAttemptAt' | 'leaseUntil' | 'leaseOwner' | 'lastError' | 'lastStatus' | 'updatedAt' | 'deliveredAt'>>;

/** The rows one endpoint delivers: its channel, and its destination unless its rows name their own recipients. */
export interface OutboxEndpoint {
  channel: string;
  destination: string | null;
}

/** A status the hub never writes is a damaged database, and says so. */
export const decodeNotificationStatus = decodeOneOf<NotificationStatus>(NOTIFICATION_STATUSES, 'notification status');

export function toOutboxRecord(row: OutboxTable): OutboxRecord {
  return {
    id: row.id,
    type: row.type,
    channel: row.channel,
    destination: row.destination,
    requestId: row.request_id,
    payload: row.payload,
    status: decodeNotificationStatus(row.status),
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    leaseUntil: row.lease_until,
    leaseOwner: row.lease_owner,
    lastError: row.last_error,
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
  };
}

function toOutboxRow(record: OutboxRecord): OutboxTable {
  return {
    id: record.id,
    type: record.type,
    channel: record.channel,
    destination: record.destination,
    request_id: record.requestId,
    payload: record.payload,
    status: record.status,
    attempts: record.attempts,
    next_attempt_at: record.nextAttemptAt,
    lease_until: record.leaseUntil,
    lease_owner: record.leaseOwner,
    last_error: record.lastError,
    last_status: record.lastStatus,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    delivered_at: record.deliveredAt,
  };
}

function toOutboxColumns(changes: OutboxChanges): Updateable<OutboxTable> {
  return {
    ...(changes.status !== undefined ? { status: changes.status } : {}),
    ...(changes.attempts !== undefined ? { attempts: changes.attempts } : {}),
    ...(changes.nextAttemptAt !== undefined ? { next_attempt_at: changes.nextAttemptAt } : {}),
    ...(changes.leaseUntil !== undefined ? { lease_until: changes.leaseUntil } : {}),
    ...(changes.leaseOwner !== undefined ? { lease_owner: changes.leaseOwner } : {}),
    ...(changes.lastError !== undefined ? { last_error: changes.lastError } : {}),
    ...(changes.lastStatus !== undefined ? { last_status: changes.lastStatus } : {}),
    ...(changes.updatedAt !== undefined ? { updated_at: changes.updatedAt } : {}),
    ...(changes.deliveredAt !== undefined ? { delivered_at: changes.deliveredAt } : {}),
  };
}

/** The rows of this endpoint. */
function ofEndpoint<Q extends { where(column: 'channel' | 'destination', op: '=', value: string): Q }>(query: Q, endpoint: OutboxEndpoint): Q {
  const ofChannel = query.where('channel', '=', endpoint.channel);
  return endpoint.destination === null ? ofChannel : ofChannel.where('destination', '=', endpoint.destination);
}

/** The notification outbox (table `outbox`): records in, records out; the lease columns guard every write of an attempt. */
export const outboxStore = {
  /** The rows of one change, in as few multi-row inserts as the databases' parameter limits allow. */
  async insert(db: Executor, records: OutboxRecord[]): Promise<void> {
    for (const batch of insertBatches(records.map(toOutboxRow))) await db.insertInto('outbox').values(batch).execute();
  },

  async byId(db: Executor, id: string): Promise<OutboxRecord | undefined> {
    const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toOutboxRecord(row);
  },

  /** Newest first, one more than `limit` so the caller knows whether a next page exists. */
  async page(db: Executor, query: { status?: NotificationStatus; cursor?: string; limit: number }): Promise<OutboxRecord[]> {
    let select = db.selectFrom('outbox').selectAll();
    if (query.status) select = select.where('status', '=', query.status);
    if (query.cursor) select = select.where('id', '<', query.cursor);
    return (await select.orderBy('id', 'desc').limit(query.limit + 1).execute()).map(toOutboxRecord);
  },

  async pendingCount(db: Executor): Promise<number> {
    const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll().as('n')).where('status', '=', 'pending').executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  /** Frees the lease of every pending row (SQLite's one hub starting again: the leases are its own). */
  async freeAllLeases(db: Executor): Promise<void> {
    await db.updateTable('outbox').set({ lease_until: null, lease_owner: null }).where('status', '=', 'pending').where('lease_owner', 'is not', null).execute();
  },

  /** Hands back this owner's pending rows, no attempt counted. */
  async freeLeasesOf(db: Executor, owner: string): Promise<void> {
    await db.updateTable('outbox').set({ lease_until: null, lease_owner: null }).where('lease_owner', '=', owner).where('status', '=', 'pending').execute();
  },

  /** Fails the pending rows of a channel, but those going to one of `keep` (null: every destination), with this error. */
  /** `dueBefore`: only rows that have waited since then (on PostgreSQL another hub may be the one configured for the rest). */
  async failPendingOfChannel(db: Executor, channel: string, keep: string[] | null, error: string, now: string, dueBefore?: string): Promise<void> {
    let query = db.updateTable('outbox').set({ status: 'failed', last_error: error, updated_at: now }).where('status', '=', 'pending').where('channel', '=', channel);
    if (keep?.length) query = query.where('destination', 'not in', keep);
    if (dueBefore) query = query.where('next_attempt_at', '<', dueBefore);
    // One another hub is sending right now is its to settle.
    query = query.where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]));
    await query.execute();
  },

  /** Fails an endpoint's pending rows and frees their leases; returns how many. */
  async failPendingOfEndpoint(db: Executor, endpoint: OutboxEndpoint, error: string, now: string): Promise<number> {
    const result = await ofEndpoint(db.updateTable('outbox').set({ status: 'failed', last_error: error, lease_until: null, lease_owner: null, updated_at: now }), endpoint)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  /** Forgets delivered rows older than `before`. */
  async pruneDelivered(db: Executor, before: string): Promise<void> {
    await db.deleteFrom('outbox').where('status', '=', 'delivered').where('delivered_at', '<', before).execute();
  },

  /**
   * Leases up to `limit` of the endpoint's due rows, not leased or with their lease ended, to `owner`
   * until `leaseUntil`; `skipLocked` (PostgreSQL) passes over rows another hub is claiming.
   */
  async claimDue(trx: Transaction<Database>, endpoint: OutboxEndpoint, claim: { now: string; leaseUntil: string; owner: string; limit: number; skipLocked: boolean }): Promise<OutboxRecord[]> {
    let query = ofEndpoint(trx.selectFrom('outbox').selectAll(), endpoint)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', claim.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', claim.now)]))
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(claim.limit);
    if (claim.skipLocked) query = query.forUpdate().skipLocked();
    const rows = await query.execute();
    if (rows.length) {
      await trx.updateTable('outbox').set({ lease_until: claim.leaseUntil, lease_owner: claim.owner }).where('id', 'in', rows.map((row) => row.id)).execute();
    }
    return rows.map(toOutboxRecord);
  },

  /** Moves the lease of `owner`'s rows among `ids` that are still pending to `leaseUntil`. */
  async renewLeases(db: Executor, owner: string, ids: string[], leaseUntil: string): Promise<void> {
    if (!ids.length) return;
    await db.updateTable('outbox').set({ lease_until: leaseUntil }).where('lease_owner', '=', owner).where('status', '=', 'pending').where('id', 'in', ids).execute();
  },

  /** Changes a row only while `owner` holds its lease; false when it no longer does. */
  async updateLeased(db: Executor, id: string, owner: string, changes: OutboxChanges): Promise<boolean> {
    const updated = await db.updateTable('outbox').set(toOutboxColumns(changes)).where('id', '=', id).where('lease_owner', '=', owner).executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  },

  /** Puts a failed row back in line; false when it was not failed. */
  async retryFailed(db: Executor, id: string, changes: OutboxChanges): Promise<boolean> {
    const updated = await db.updateTable('outbox').set(toOutboxColumns(changes)).where('id', '=', id).where('status', '=', 'failed').executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  },

  /** When the earliest pending row not leased by `owner` is due; null when none is. */
  async nextDueNotLeasedBy(db: Executor, owner: string): Promise<string | null> {
    const next = await db.selectFrom('outbox').select((eb) => eb.fn.min('next_attempt_at').as('due')).where('status', '=', 'pending').where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '!=', owner)])).executeTakeFirst();
    return next?.due ?? null;
  },
};
