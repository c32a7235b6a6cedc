import type { Kysely } from 'kysely';
import type { NotificationEvent } from '../../../protocol/index.js';
import type { Database } from '../../store/schema.js';
import { requestStore } from '../../store/requests.js';
import type { RowSubject } from '../delivery.js';
import { requestFinished, reviewAlreadyIn } from '../no-longer-due.js';

/** Cards saying a request waits for a decision: posted once it no longer does, they would send people after nothing. */
const ASKS_FOR_A_DECISION: ReadonlySet<string> = new Set<NotificationEvent>(['request.created', 'request.escalated', 'request.reminded']);

/**
 * Why a stored Teams card should no longer be posted, or null when it should. A row may wait hours for
 * Teams, or be retried by an admin days later: by then the request it asks a decision on may be decided,
 * or the overdue review it chases done. Cards telling of an outcome or a break-glass use stay due.
 */
export async function whyCardNoLongerDue(db: Kysely<Database>, row: RowSubject): Promise<string | null> {
  if (row.requestId === null) return null;
  const after = 'before this card could go out';
  if (row.type === 'request.break_glass_overdue') {
    const reviewed = await reviewAlreadyIn(db, row.requestId);
    return reviewed && `not posted: ${reviewed} ${after}`;
  }
  if (!ASKS_FOR_A_DECISION.has(row.type)) return null;
  const request = await requestStore.byId(db, row.requestId);
  if (!request) return 'not posted: the request no longer exists';
  const finished = requestFinished(request.status);
  return finished && `not posted: ${finished} ${after}`;
}
