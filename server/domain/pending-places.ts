import { sql, type CompiledQuery, type Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

interface Counter {
  requesterId: string;
  ruleName: string;
  /** The count when this transaction first read it (its row then locked on PostgreSQL). */
  read: number;
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
  let mine = counters.get(trx);
  if (!mine) counters.set(trx, (mine = new Map()));
  const key = JSON.stringify([requesterId, ruleName]);
  let counter = mine.get(key);
  if (!counter) {
    counter = { requesterId, ruleName, read: await readAndLock(trx, requesterId, ruleName), taken: 0 };
    mine.set(key, counter);
  }
  if (counter.read + counter.taken >= cap) return null;
  counter.taken += 1;
  return counter.read + counter.taken;
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
  const row = await trx
    .insertInto('pending_counts')
    .values({ requester_id: requesterId, rule_name: ruleName, pending: 0 })
    .onConflict((oc) => oc.columns(['requester_id', 'rule_name']).doUpdateSet({ pending: sql<number>`pending_counts.pending` }))
    .returning('pending')
    .executeTakeFirstOrThrow();
  return Number(row.pending);
}
