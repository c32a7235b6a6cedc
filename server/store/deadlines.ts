import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import { insertBatches } from './insert-batches.js';
import { decodeOneOf } from './json.js';
import type { Database, DeadlinesTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export const DEADLINE_KINDS = ['escalation', 'expiry', 'grant_expiry', 'grant_expiring', 'claim_end', 'reminder', 'review_due', 'delegation_end'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];
/** The kinds about a request (or its grant); `delegation_end` is about a delegation. */
export type RequestDeadlineKind = Exclude<DeadlineKind, 'delegation_end'>;

/** A durable timer about a request or its grant, as the scheduler and the lifecycle work with it: `done` a boolean. */
export interface RequestDeadline {
  id: string;
  kind: RequestDeadlineKind;
  requestId: string;
  /** The grant a grant deadline is about; null for a request's own deadlines. */
  grantJti: string | null;
  /** The escalation step (counted across runs of the chain) or the reminder's number. */
  step: number | null;
  dueAt: string;
  done: boolean;
}

/** A durable timer at the end of a delegation's window: what its running out changes is settled then. */
export interface DelegationDeadline {
  id: string;
  kind: 'delegation_end';
  delegationId: string;
  dueAt: string;
  done: boolean;
}

export type DeadlineRecord = RequestDeadline | DelegationDeadline;

/** A deadline about to be written: not done yet. */
export type NewRequestDeadline = Omit<RequestDeadline, 'done'>;
export type NewDeadline = NewRequestDeadline | Omit<DelegationDeadline, 'done'>;

/** A kind the hub never writes is a damaged database, and says so. */
export const decodeDeadlineKind = decodeOneOf(DEADLINE_KINDS, 'deadline kind');

/** `request_id` is not null (it is older than deadlines about anything but a request): one about no request holds ''. */
const NO_REQUEST = '';

export function toDeadlineRecord(row: DeadlinesTable): DeadlineRecord {
  const kind = decodeDeadlineKind(row.kind);
  const done = Number(row.done) === 1;
  if (kind === 'delegation_end') {
    if (row.delegation_id === null) throw new Error(`Deadline ${row.id} is the end of a delegation but names none; the database is damaged.`);
    return { id: row.id, kind, delegationId: row.delegation_id, dueAt: row.due_at, done };
  }
  return {
    id: row.id,
    kind,
    requestId: row.request_id,
    grantJti: row.grant_jti,
    step: row.step === null ? null : Number(row.step),
    dueAt: row.due_at,
    done,
  };
}

const toDeadlineRow = (deadline: NewDeadline): DeadlinesTable =>
  deadline.kind === 'delegation_end'
    ? { id: deadline.id, kind: deadline.kind, request_id: NO_REQUEST, grant_jti: null, delegation_id: deadline.delegationId, step: null, due_at: deadline.dueAt, done: 0 }
    : { id: deadline.id, kind: deadline.kind, request_id: deadline.requestId, grant_jti: deadline.grantJti, delegation_id: null, step: deadline.step, due_at: deadline.dueAt, done: 0 };

const asRequestDeadline = (row: DeadlinesTable): RequestDeadline => {
  const record = toDeadlineRecord(row);
  if (record.kind === 'delegation_end') throw new Error(`Deadline ${row.id} is the end of a delegation, read as a request's; the database is damaged.`);
  return record;
};

/**
 * Rows the hub can read: of a kind it knows, and a delegation's end that names its delegation. Any
 * other (written by a newer hub sharing the database, or damaged) is left for whoever knows it
 * rather than failing, or being closed by, every pass: one the scheduler could not read would stop
 * every deadline due after it, for everyone.
 */
const readable = (eb: ExpressionBuilder<Database, 'deadlines'>) => eb.and([eb('kind', 'in', DEADLINE_KINDS), eb.or([eb('kind', '!=', 'delegation_end'), eb('delegation_id', 'is not', null)])]);

/** The durable timers (table `deadlines`): records in, records out. */
export const deadlineStore = {
  /** New deadlines, in as few multi-row inserts as the databases' parameter limits allow. */
  async insert(db: Executor, deadlines: NewDeadline[]): Promise<void> {
    for (const batch of insertBatches(deadlines.map(toDeadlineRow))) await db.insertInto('deadlines').values(batch).execute();
  },

  /**
   * Up to `limit` deadlines due by `now`, earliest first; `skipLocked` (PostgreSQL) locks them and
   * passes over those another hub holds. Only rows this hub can read (`readable`).
   */
  async claimDue(trx: Transaction<Database>, now: string, limit: number, skipLocked: boolean): Promise<DeadlineRecord[]> {
    let query = trx.selectFrom('deadlines').selectAll().where('done', '=', 0).where(readable).where('due_at', '<=', now).orderBy('due_at').limit(limit);
    if (skipLocked) query = query.forUpdate().skipLocked();
    return (await query.execute()).map(toDeadlineRecord);
  },

  /** When the earliest open deadline this hub can read is due; null when none is open. */
  async nextDue(db: Executor): Promise<string | null> {
    const next = await db.selectFrom('deadlines').select((eb) => eb.fn.min('due_at').as('due')).where('done', '=', 0).where(readable).executeTakeFirst();
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
  async openOfRequest(db: Executor, requestId: string, kind: RequestDeadlineKind): Promise<RequestDeadline[]> {
    return (await db.selectFrom('deadlines').selectAll().where('request_id', '=', requestId).where('kind', '=', kind).where('done', '=', 0).execute()).map(asRequestDeadline);
  },

  /** Closes a request's open deadlines of one kind. */
  async closeOfRequest(db: Executor, requestId: string, kind: RequestDeadlineKind): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('request_id', '=', requestId).where('kind', '=', kind).where('done', '=', 0).execute();
  },

  /** Closes a request's open deadlines but those of these kinds. */
  async closeOfRequestExcept(db: Executor, requestId: string, keep: RequestDeadlineKind[]): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('request_id', '=', requestId).where('kind', 'not in', keep).where('done', '=', 0).execute();
  },

  /** Closes the open deadlines of a delegation (it was ended before its window ran out). */
  async closeOfDelegation(db: Executor, delegationId: string): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('delegation_id', '=', delegationId).where('done', '=', 0).execute();
  },

  /** Closes every deadline of a grant (it was redeemed or revoked). */
  async closeOfGrant(db: Executor, jti: string): Promise<void> {
    await db.updateTable('deadlines').set({ done: 1 }).where('grant_jti', '=', jti).execute();
  },
};
