import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';

/** How many times rows that disagree are read again while events keep being written. */
export const RECHECK_ROUNDS = 5;

/** An event's `data` as an object; anything else (not JSON, not an object) holds no fields. */
export function parseEventData(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A string field as an event recorded it, empty or not; null when the event holds none. */
export const recordedText = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * `compareAll` up to `walkedTo`, and again up to the new head while any row disagrees and events were
 * written since: a row created or changed while verify reads can disagree for a moment. For tables
 * small enough to read whole (delegations, users).
 */
export async function comparedUntilSettled<Finding>(db: Kysely<Database>, walkedTo: number, compareAll: (db: Kysely<Database>, upTo: number) => Promise<Finding[]>): Promise<Finding[]> {
  let upTo = walkedTo;
  let found = await compareAll(db, upTo);
  for (let round = 0; round < RECHECK_ROUNDS && found.length > 0; round += 1) {
    const head = Number((await db.selectFrom('chain_head').select('seq').where('id', '=', 1).executeTakeFirst())?.seq ?? upTo);
    if (head === upTo) break;
    upTo = head;
    found = await compareAll(db, upTo);
  }
  return found;
}
