import type { Kysely } from 'kysely';
import type { RequestStatus } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { DeliveryOutcome } from './delivery.js';
import { breakGlassReviewStore, whoReviewed } from '../store/break-glass-reviews.js';

// Why a stored message may no longer be due when its channel gets to it, in the words every channel
// records on the row ("not sent: …", "not posted: …"), so the outbox reads alike whichever channel it was.

const FINISHED: Record<Exclude<RequestStatus, 'pending'>, string> = {
  approved: 'the request was approved',
  denied: 'the request was denied',
  expired: 'the request expired',
  cancelled: 'the request was cancelled',
};

/** "the request was approved" once a request is no longer waiting for a decision; null while it is. */
export function requestFinished(status: RequestStatus): string | null {
  return status === 'pending' ? null : FINISHED[status];
}

/**
 * "the break-glass was ratified by dana for sue" once a break-glass use's review is in; null while it is
 * open. An overdue-review alert arriving after that would send its reviewers after nothing.
 */
export async function reviewAlreadyIn(db: Kysely<Database>, requestId: string): Promise<string | null> {
  const review = await breakGlassReviewStore.ofRequest(db, requestId);
  return review?.outcome ? `the break-glass was ${review.outcome} by ${whoReviewed(review) ?? 'a reviewer'}` : null;
}

/**
 * A delivery attempt's answer when `check` says the stored message is no longer due (skipped, with its
 * reason) or cannot tell (failed, to be tried again, with the cause on the row, so an admin reading the
 * outbox sees why: a database gone away, say); null when it is due and goes out.
 */
export async function notDueOutcome(what: 'message' | 'card', check: () => Promise<string | null>): Promise<DeliveryOutcome | null> {
  let stale: string | null;
  try {
    stale = await check();
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    return { kind: 'failed', status: null, error: `cannot read whether the ${what} is still due: ${cause}`, retryAfterMs: null };
  }
  return stale === null ? null : { kind: 'skipped', reason: stale };
}
