import { sql, type CompiledQuery, type Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { readAhead } from '../store/pipelined-postgres.js';

interface Counter {
  requesterId: string;
  ruleName: string;
  /** The count when this transaction first read it (its row then locked on PostgreSQL). */
  read: Promise<number>;
  /** Places taken since by this transaction, not yet written. */
  taken: number;
}

const counters = new WeakMap<Transaction<Database>, Map<string, Counter>>();

/**
 * Takes a place under the requester's pending cap for the rule; null when the cap is reached.
 *
 * The submissions of a group commit share a transaction and mostly the same requester and rule, so
 * each counter is read once per transaction (locking its row, so another hub waits rather than
 * counting past the cap), counted here as places are taken, and written once before commit
 * (`writePendingPlaces`), instead of one statement per submission.
 *
 * Run inside `inTransaction`, which takes the audit chain's head before any counter row: a group
 * commit takes places of several requesters around its audit appends, and a decision frees a place
 * before its own, so counter rows locked before the head would let the two wait on each other in a
 * cycle on PostgreSQL.
 */
export async function takePendingPlace(trx: Transaction<Database>, requesterId: string, ruleName: string, cap: number): Promise<number | null> {
  const counter = counterOf(trx, requesterId, ruleName);
  const read = await counter.read;
  if (read + counter.taken >= cap) return null;
  counter.taken += 1;
  return read + counter.taken;
}

/**
 * Starts reading (and locking) the requester's counter without waiting for it, so the reads a
 * submission makes go out together (`readAhead`); `takePendingPlace` then waits for its answer.
 * A submission refused before taking a place leaves the row as it was (created at zero if new).
 */
export function holdPendingPlace(trx: Transaction<Database>, requesterId: string, ruleName: string): void {
  counterOf(trx, requesterId, ruleName);
}

function counterOf(trx: Transaction<Database>, requesterId: string, ruleName: string): Counter {
  let mine = counters.get(trx);
  if (!mine) counters.set(trx, (mine = new Map()));
  const key = JSON.stringify([requesterId, ruleName]);
  let counter = mine.get(key);
  if (!counter) {
    const read = readAndLock(trx, requesterId, ruleName);
    // Held early, it may go unread; whoever takes a place still sees a failure, as does the commit.
    read.catch(() => undefined);
    counter = { requesterId, ruleName, read, taken: 0 };
    mine.set(key, counter);
  }
  return counter;
}

/** Writes the places taken in this transaction: one statement for every counter. */
export async function writePendingPlaces(trx: Transaction<Database>): Promise<void> {
  for (const statement of takePendingPlacesWrite(trx)) await trx.executeQuery(statement);
}

/** The statement writing the places taken in this transaction, if any; they then count as written. */
export function takePendingPlacesWrite(trx: Transaction<Database>): CompiledQuery[] {
  const mine = counters.get(trx);
  if (!mine) return [];
  counters.delete(trx);
  const rows = [...mine.values()].filter((counter) => counter.taken > 0);
  if (rows.length === 0) return [];
  // Added to the stored count rather than overwriting it: a release in this transaction (which
  // writes these first) or anything else that changed the row meanwhile is kept.
  return [
    trx
      .insertInto('pending_counts')
      .values(rows.map((counter) => ({ requester_id: counter.requesterId, rule_name: counter.ruleName, pending: counter.taken })))
      .onConflict((oc) => oc.columns(['requester_id', 'rule_name']).doUpdateSet({ pending: sql<number>`pending_counts.pending + excluded.pending` }))
      .compile(),
  ];
}

/** A request leaving pending frees its place: after the places this transaction took are written, so none is lost. */
export async function releasePendingPlace(trx: Transaction<Database>, requesterId: string, ruleName: string): Promise<void> {
  await writePendingPlaces(trx);
  await trx
    .updateTable('pending_counts')
    .set((eb) => ({ pending: eb('pending', '-', 1) }))
    .where('requester_id', '=', requesterId)
    .where('rule_name', '=', ruleName)
    .where('pending', '>', 0)
    .execute();
}

/**
 * The stored count, creating the row at zero when there is none. The no-op update on conflict is
 * what locks an existing row on PostgreSQL until commit; one statement either way.
 */
async function readAndLock(trx: Transaction<Database>, requesterId: string, ruleName: string): Promise<number> {
  const [row] = await readAhead(
    trx,
    trx
      .insertInto('pending_counts')
      .values({ requester_id: requesterId, rule_name: ruleName, pending: 0 })
      .onConflict((oc) => oc.columns(['requester_id', 'rule_name']).doUpdateSet({ pending: sql<number>`pending_counts.pending` }))
      .returning('pending')
      .compile(),
  );
  if (!row) throw new Error('the pending counter upsert returned no row');
  return Number(row.pending);
}
