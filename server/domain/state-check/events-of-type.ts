import type { Kysely } from 'kysely';
import type { AuditType } from '../../../protocol/index.js';
import type { AuditEventsTable, Database } from '../../store/schema.js';
import { IN_LIST_SIZE } from '../../store/in-lists.js';

export type TypedEvent = Pick<AuditEventsTable, 'seq' | 'at' | 'actor' | 'request_id' | 'data'>;

/**
 * The events of one type up to `upTo`, a page at a time in seq order. One type per scan: the
 * `audit_by_type` index then hands over each page in order, where several types would each be read
 * to their end and sorted for every page.
 */
export async function* eventsOfType(db: Kysely<Database>, type: AuditType, upTo: number): AsyncGenerator<TypedEvent[]> {
  for (let after = 0; ; ) {
    const events = await db
      .selectFrom('audit_events')
      .select(['seq', 'at', 'actor', 'request_id', 'data'])
      .where('type', '=', type)
      .where('seq', '>', after)
      .where('seq', '<=', upTo)
      .orderBy('seq')
      .limit(IN_LIST_SIZE)
      .execute();
    if (events.length > 0) yield events;
    if (events.length < IN_LIST_SIZE) return;
    after = Number(events[events.length - 1]!.seq);
  }
}
