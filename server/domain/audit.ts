import { sql, type CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { isDateOnly, type AuditEvent, type AuditQuery, type AuditType } from '../../protocol/index.js';
import type { Database, AuditEventsTable } from '../store/schema.js';
import { sendAhead } from '../store/pipelined-postgres.js';
import type { Dialect } from '../store/database.js';
import { canonicalJson } from '../store/json.js';
import { deferInsert, writeDeferred } from '../store/deferred-inserts.js';
import { GENESIS_HASH } from '../store/migrations.js';
import { hashEvent, toAuditEvent, toAuditEventFields } from '../store/audit-events.js';
import { escapeLike } from '../store/requests.js';

export interface AuditInput {
  actor: string;
  type: AuditType;
  requestId?: string | null;
  action?: string | null;
  resource?: string | null;
  environment?: string | null;
  outcome?: string | null;
  data?: Record<string, unknown>;
}

type Executor = Kysely<Database> | Transaction<Database>;

export { hashEvent };

interface ChainHead {
  seq: number;
  hash: string;
  dirty: boolean;
}

/**
 * The chain head as one transaction sees it: read on its first append, advanced by each append in
 * turn, and written back once before commit (`takeChainHeadWrite`). A transaction holding many events
 * (a group commit) so touches the head row twice, not twice per event.
 */
const heads = new WeakMap<Transaction<Database>, Promise<ChainHead>>();

/**
 * Events are queued (`deferInsert`) and go in together, one multi-row insert, when the head is
 * written or before anything in the transaction reads the log (`writePendingAudit`).
 */
export async function writePendingAudit(trx: Transaction<Database>): Promise<void> {
  // Appends chain through the head's promise: wait for those in flight to have queued their row.
  await heads.get(trx);
  await writeDeferred(trx, 'audit_events');
}

async function readChainHead(trx: Transaction<Database>, dialect: Dialect): Promise<ChainHead> {
  let headQuery = trx.selectFrom('chain_head').select(['seq', 'hash']).where('id', '=', 1);
  // On PostgreSQL the row lock makes concurrent hubs append one after another; SQLite serialises writers itself.
  if (dialect === 'postgres') headQuery = headQuery.forUpdate();
  const { answer } = await sendAhead(trx, headQuery.compile());
  const [head] = (await answer).rows;
  if (!head) throw new Error('the audit chain has no head row: the database was not migrated');
  return { seq: Number(head.seq), hash: head.hash, dirty: false };
}

/**
 * Takes the chain's head now rather than at the first append: on PostgreSQL its row lock, held to
 * commit. Every writer appends under it, so a check made after this sees every transaction that
 * committed before, and none can commit until this one has. `inTransaction` takes it first on
 * PostgreSQL, so every writer locks in one order and its checks (one extension per grant, a
 * break-glass cooldown) see what others committed.
 *
 * The lock is asked for here and waited for by the statements after it: PostgreSQL runs them in the
 * order sent, so they run once it is held, and its answer arrives with theirs (`sendAhead`). A
 * failure to take it fails the next statement, and the commit at the latest.
 */
export function holdChainHead(trx: Transaction<Database>, dialect: Dialect): void {
  if (heads.has(trx)) return;
  const head = readChainHead(trx, dialect);
  head.catch(() => undefined);
  heads.set(trx, head);
}

/** Appends one event to the chain inside the caller's transaction; appends in one transaction run in call order. */
export function appendAudit(trx: Transaction<Database>, dialect: Dialect, at: Date, input: AuditInput): Promise<AuditEvent> {
  const previous = heads.get(trx) ?? readChainHead(trx, dialect);
  const appended = previous.then(async (head) => {
    const partial: Omit<AuditEventsTable, 'hash'> = {
      seq: head.seq + 1,
      at: at.toISOString(),
      actor: input.actor,
      type: input.type,
      request_id: input.requestId ?? null,
      action: input.action ?? null,
      resource: input.resource ?? null,
      environment: input.environment ?? null,
      outcome: input.outcome ?? null,
      data: canonicalJson(input.data ?? {}),
      prev_hash: head.hash,
    };
    const row: AuditEventsTable = { ...partial, hash: hashEvent(partial) };
    deferInsert(trx, dialect, 'audit_events', row);
    return { row, head: { seq: row.seq, hash: row.hash, dirty: true } };
  });
  const next = appended.then(({ head }) => head);
  // The caller sees a failed append through the returned promise; this copy must not count as unhandled.
  next.catch(() => undefined);
  heads.set(trx, next);
  // The caller's own data, not a parse of the column just written: the same members, already in hand.
  return appended.then(({ row }) => ({ ...toAuditEventFields(row), data: input.data ?? {} }));
}

/**
 * The statement writing the head advanced by this transaction's appends, once every append has
 * queued its row; run last, before commit. Null when the head did not move.
 */
export async function takeChainHeadWrite(trx: Transaction<Database>): Promise<{ statement: CompiledQuery; seq: number } | null> {
  const pending = heads.get(trx);
  if (!pending) return null;
  const head = await pending;
  heads.delete(trx);
  if (!head.dirty) return null;
  return { statement: trx.updateTable('chain_head').set({ seq: head.seq, hash: head.hash }).where('id', '=', 1).compile(), seq: head.seq };
}

export type VerifyOutcome = { ok: true; events: number } | { ok: false; events: number; brokenAt: number; problem: string };

/** What a walk of the chain found, with the hashes of the events it was asked to remember. */
export interface ChainWalk {
  outcome: VerifyOutcome;
  /** The last event the walk reached (0 for an empty chain). */
  end: number;
  hashes: Map<number, string>;
}

/**
 * Walks the chain in order, recomputing every hash; names the first event that does not fit.
 * The head is read first and the walk stops at it: every event up to a committed head was committed
 * with or before it, so events written while verify runs can't look like a cut-off chain.
 */
export async function walkChain(db: Executor, remember: ReadonlySet<number> = new Set(), batch = 5000): Promise<ChainWalk> {
  const head = await db.selectFrom('chain_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  const last = head ? Number(head.seq) : Number.MAX_SAFE_INTEGER;
  const hashes = new Map<number, string>();
  let expectedPrev = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  const broken = (brokenAt: number, problem: string, verified = count): ChainWalk => ({ outcome: { ok: false, events: verified, brokenAt, problem }, end: expectedSeq - 1, hashes });
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('seq', '>=', expectedSeq).where('seq', '<=', last).orderBy('seq').limit(batch).execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) return broken(expectedSeq, `event ${expectedSeq} is missing`);
      if (row.prev_hash !== expectedPrev) {
        // Either the event before was edited and its hash recomputed, or this one's link was: the earlier is named.
        if (seq === 1) return broken(1, 'event 1 does not start the chain: it was modified after it was written');
        return broken(seq - 1, `event ${seq} does not point at event ${seq - 1}: one of the two was modified after it was written (its hash recomputed)`, count - 1);
      }
      if (hashEvent(row) !== row.hash) return broken(seq, `event ${seq} was modified after it was written`);
      if (remember.has(seq)) hashes.set(seq, row.hash);
      expectedPrev = row.hash;
      expectedSeq = seq + 1;
      count += 1;
    }
    if (rows.length < batch) break;
  }
  if (head && Number(head.seq) === expectedSeq - 1 && head.hash !== expectedPrev) {
    return broken(expectedSeq - 1, `event ${expectedSeq - 1}, the last, does not match the chain head: it was modified after it was written (its hash recomputed)`, count - 1);
  }
  if (head && Number(head.seq) !== expectedSeq - 1) {
    return broken(expectedSeq, `the chain ends at event ${expectedSeq - 1} but ${Number(head.seq)} events were written: the last ones were removed`);
  }
  const outside = head ? await eventOutsideChain(db, last) : null;
  if (outside !== null) {
    return broken(outside, outside < 1
      ? `event ${outside} lies before the chain's first event: it was added by hand`
      : `event ${outside} lies past the chain head (event ${last}): it was added by hand, or the head was moved back over it`);
  }
  return { outcome: { ok: true, events: count }, end: expectedSeq - 1, hashes };
}

/**
 * A row the walk from 1 to the head never reads: before the first event, or past the head. The
 * history shows every row, so one the chain does not cover is a finding. An event appended while the
 * chain was walked is past the head read at the start but not past the head as it is now.
 */
async function eventOutsideChain(db: Executor, last: number): Promise<number | null> {
  let upTo = last;
  // The head is read after each row found: a row appended meanwhile is by then under it, a forged one never is.
  for (let round = 0; round < 20; round += 1) {
    const found = await db.selectFrom('audit_events').select('seq').where((eb) => eb.or([eb('seq', '<', 1), eb('seq', '>', upTo)])).orderBy('seq').limit(1).executeTakeFirst();
    if (!found) return null;
    const seq = Number(found.seq);
    if (seq < 1) return seq;
    const now = Number((await db.selectFrom('chain_head').select('seq').where('id', '=', 1).executeTakeFirst())?.seq ?? upTo);
    if (seq > now) return seq;
    upTo = now;
  }
  return null;
}

export async function verifyChain(db: Executor, batch = 5000): Promise<VerifyOutcome> {
  return (await walkChain(db, new Set(), batch)).outcome;
}

/** One page of the audit log, newest first, with a cursor (the last seq seen) for the next. */
export async function queryAudit(db: Executor, query: AuditQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
  let select = db.selectFrom('audit_events').selectAll();
  if (query.from) select = select.where('at', '>=', new Date(query.from).toISOString());
  if (query.to) {
    // A date alone takes in that whole day (UTC); a time is taken as given.
    select = isDateOnly(query.to)
      ? select.where('at', '<', new Date(Date.parse(`${query.to}T00:00:00Z`) + 86_400_000).toISOString())
      : select.where('at', '<=', new Date(query.to).toISOString());
  }
  if (query.actor) select = select.where('actor', '=', query.actor);
  if (query.action) select = select.where('action', '=', query.action);
  if (query.resource) select = select.where('resource', '=', query.resource);
  if (query.type) select = select.where('type', '=', query.type);
  if (query.outcome) select = select.where('outcome', '=', query.outcome);
  if (query.q) {
    // The words searched for, not a pattern: `%` and `_` in them match only themselves.
    const like = `%${escapeLike(query.q.toLowerCase())}%`;
    select = select.where((eb) =>
      eb.or(['actor', 'type', 'resource', 'action', 'environment', 'request_id', 'data'].map((column) => sql<boolean>`lower(${sql.ref(column)}) like ${like} escape '\\'`)),
    );
  }
  if (query.cursor) {
    const cursor = Number(query.cursor);
    if (Number.isInteger(cursor)) select = select.where('seq', '<', cursor);
  }
  const rows = await select.orderBy('seq', 'desc').limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit).map(toAuditEvent);
  const last = page[page.length - 1];
  return { events: page, nextCursor: rows.length > query.limit && last ? String(last.seq) : null };
}
