import type { GreenlightRequest } from '../../../protocol/request.js';
import { describeDeadline, nextDeadline } from '../../../protocol/urgency.js';
import { countdown } from '../lib/time.js';

/**
 * "escalates in 4m 10s" / "expires in 59m" / "escalates in 8m (held by bob’s claim)", for a pending
 * request with a deadline. `compact` leaves out who holds it (a list row shows the claim as a badge
 * beside it) and keeps the whole sentence as the tooltip.
 */
export function Deadline({ request, now, compact = false }: { request: GreenlightRequest; now: number; compact?: boolean }) {
  if (request.status !== 'pending') return null;
  const deadline = nextDeadline(request);
  if (!deadline) return null;
  const left = countdown(deadline.at, now);
  const when = left === 'now' ? 'now' : `in ${left}`;
  const full = describeDeadline(deadline, when);
  return (
    <span className={`deadline deadline-${deadline.kind}`} title={compact && deadline.heldBy ? full : undefined}>
      <time dateTime={deadline.at}>{compact ? describeDeadline({ ...deadline, heldBy: undefined }, when) : full}</time>
    </span>
  );
}
