import type { GreenlightRequest } from '../../../protocol/request.js';
import { describeDeadline, nextDeadline } from '../../../protocol/urgency.js';
import { countdown } from '../lib/time.js';

/** "escalates in 4m 10s" / "expires in 59m" / "escalates in 8m (held by bob’s claim)", for a pending request with a deadline. */
export function Deadline({ request, now }: { request: GreenlightRequest; now: number }) {
  if (request.status !== 'pending') return null;
  const deadline = nextDeadline(request);
  if (!deadline) return null;
  const left = countdown(deadline.at, now);
  return (
    <span className={`deadline deadline-${deadline.kind}`}>
      <time dateTime={deadline.at}>{describeDeadline(deadline, left === 'now' ? 'now' : `in ${left}`)}</time>
    </span>
  );
}
