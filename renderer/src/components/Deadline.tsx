import type { GreenlightRequest } from '../../../protocol/request.js';
import { nextDeadline } from '../../../protocol/urgency.js';
import { countdown } from '../lib/time.js';

/** "escalates in 4m 10s" / "expires in 59m", for a pending request with a deadline. */
export function Deadline({ request, now }: { request: GreenlightRequest; now: number }) {
  if (request.status !== 'pending') return null;
  const deadline = nextDeadline(request);
  if (!deadline) return null;
  const left = countdown(deadline.at, now);
  const verb = deadline.kind === 'escalation' ? 'escalates' : 'expires';
  return (
    <span className={`deadline deadline-${deadline.kind}`}>
      <time dateTime={deadline.at}>{left === 'now' ? `${verb} now` : `${verb} in ${left}`}</time>
    </span>
  );
}
