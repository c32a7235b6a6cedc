import type { Kysely, Transaction } from 'kysely';
import { insertBatches } from './insert-batches.js';
import { decodeOneOf } from './json.js';
import type { Database, DeadlinesTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export const DEADLINE_KINDS = ['escalation', 'expiry', 'grant_expiry', 'grant_expiring', 'claim_end', 'reminder', 'review_due'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];

/** A durable timer as the scheduler and the lifecycle work with it: its kind one of the known ones, `done` a boolean. */
export interface DeadlineRecord {
  id: string;
  kind: DeadlineKind;
  requestId: string;
  /** The grant a grant deadline is about; null for a request's own deadlines. */
  grantJti: string | null;
  /** The escalation step (counted across runs of the chain) or the reminder's number. */
  step: number | null;
  dueAt: string;
  done: boolean;
}

/** A deadline about to be written: not done yet. */
export type NewDeadline = Omit<DeadlineRecord, 'done'>;

/** A kind the hub never writes is a damaged database, and says so. */
export const decodeDeadlineKind = decodeOneOf(DEADLINE_KINDS, 'deadline kind');

export function toDeadlineRecord(row: DeadlinesTable): DeadlineRecord {
  return {
    id: row.id,
    kind: decodeDeadlineKind(row.kind),
    requestId: row.request_id,
    grantJti: row.grant_jti,
    step: row.step === null ? null : Number(row.step),
    dueAt: row.due_at,
    done: Number(row.done) === 1,
  };
}

const toDeadlineRow = (deadline: NewDeadline): DeadlinesTable => ({
  id: deadline.id,
  kind: deadline.kind,
  request_id: deadline.requestId,
  grant_jti: deadline.grantJti,
  step: deadline.step,
  due_at: deadline.dueAt,
  done: 0,
});

/** The durable timers (table `deadlines`): records in, records out. */
export const deadlineStore = {
  /** New deadlines, in as few multi-row inserts as the databases' parameter limits allow. */
  async insert(db: Executor, deadlines: NewDeadline[]): Promise<void> {
    for (const batch of insertBatches(deadlines.map(toDeadlineRow))) await db.insertInto('deadlines').values(batch).execute();
  },

  /**
   * Up to `limit` deadlines due by `now`, earliest first; `skipLocked` (PostgreSQL) locks them and
   * passes over those another hub holds. Only kinds this hub knows: a row of another kind (written by
   * a newer hub sharing the database, or damaged) is left for whoever knows it rather than failing,
   * or being closed by, every pass.
   */
  async claimDue(trx: Transaction<Database>, now: string, limit: number, skipLocked: boolean): Promise<DeadlineRecord[]> {
    let query = trx.selectFrom('deadlines').selectAll().where('done', '=', 0).where('kind', 'in', DEADLINE_KINDS).where('due_at', '<=', now).orderBy('due_at').limit(limit);
    if (skipLocked) query = query.forUpdate().skipLocked();
    return (await query.execute()).map(toDeadlineRecord);
  },

  /** When the earliest open deadline is due; null when none is open. */
  async nextDue(db: Executor): Promise<string | null> {
    const next = await db.selectFrom('deadlines').select((eb) => eb.fn.min('due_at').as('due')).where('done', '=', 0).where('kind', 'in', DEADLINE_KINDS).executeTakeFirst();
    return next?.due ?? null;
  },

  async moveTo(db: Executor, id: string, dueAt: string): Promise<void> {
    await db.updateTable('deadlines').set({ due_at: dueAt }).where('id', '=', id).execute();
  },

  /** Moves an open deadline still due at `from` to `to`; one another hub closed or moved meanwhile stays as it is. Whether it moved. */
  async postpone(db: Executor, id: string, from: string, to: string): Promise<boolean> {
    const result = await db.updateTable('deadlines').set({ due_at: to }).where('id', '=', id).where('due_at', '=', from).where('done', '=', 0).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  },

  async markDone(db: Executor, id: string): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('id', '=', id).execute();
  },

  /** The open deadlines of one kind of a request. */
  async openOfRequest(db: Executor, requestId: string, kind: DeadlineKind): Promise<DeadlineRecord[]> {
    return (await db.selectFrom('deadlines').selectAll().where('request_id', '=', requestId).where('kind', '=', kind).where('done', '=', 0).execute()).map(toDeadlineRecord);
  },

  /** Closes a request's open deadlines of one kind. */
  async closeOfRequest(db: Executor, requestId: string, kind: DeadlineKind): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('request_id', '=', requestId).where('kind', '=', kind).where('done', '=', 0).execute();
  },

  /** Closes a request's open deadlines but those of these kinds. */
  async closeOfRequestExcept(db: Executor, requestId: string, keep: DeadlineKind[]): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('request_id', '=', requestId).where('kind', 'not in', keep).where('done', '=', 0).execute();
  },

  /** Closes every deadline of a grant (it was redeemed or revoked). */
  async closeOfGrant(db: Executor, jti: string): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('grant_jti', '=', jti).execute();
  },
};
