import { whoVoted, type GreenlightRequest } from '../../../protocol/request.js';
import { formatTime, localiseTimes } from '../lib/time.js';

/** Timeline types are audit event types (`request.vote`, `grant.issued`); say them as verbs. */
const LABELS: Record<string, string> = {
  'request.submitted': 'submitted',
  'request.vote': 'voted',
  'request.vote_withdrawn': 'withdrew an approval',
  'request.vote_narrowed': 'narrowed an approval',
  'request.approved': 'approved',
  'request.denied': 'denied',
  'request.cancelled': 'cancelled',
  'request.escalated': 'escalated',
  'request.expired': 'expired',
  'request.claimed': 'claimed',
  'request.break_glass': 'broke glass',
  'request.reviewed': 'reviewed the break-glass',
  'request.released': 'released the claim',
  'grant.issued': 'grant issued',
  'grant.redeemed': 'grant redeemed',
  'grant.redemption_repeated': 'grant redeem retried (same use)',
  'grant.revoked': 'revoked the grant',
  'grant.expired': 'grant expired',
};

/** Details the hub words itself (with UTC times in them); others carry what people typed, shown as typed. */
const HUB_WORDED = new Set(['request.claimed', 'grant.issued']);

const kindOf = (type: string) => type.split('.').pop()?.replace(/[^a-z]/gi, '-') ?? 'event';

export function Timeline({ request }: { request: GreenlightRequest }) {
  return (
    <section aria-labelledby={`timeline-${request.id}`}>
      <h3 id={`timeline-${request.id}`}>Timeline</h3>
      <ol className="timeline">
        {request.timeline.map((entry, index) => (
          <li key={`${entry.at}-${index}`} className={`tl-${kindOf(entry.type)}`}>
            <time dateTime={entry.at} className="muted small">
              {formatTime(entry.at)}
            </time>
            <span>
              <strong>{entry.actor}</strong> {LABELS[entry.type] ?? entry.type}
              {entry.detail && <span className="tl-detail"> — {HUB_WORDED.has(entry.type) ? localiseTimes(entry.detail) : entry.detail}</span>}
            </span>
          </li>
        ))}
      </ol>
      {request.decisions.length > 0 && (
        <>
          <h4>Votes</h4>
          <ul className="votes-list">
            {request.decisions.map((decision) => (
              <li key={`${decision.approver}-${decision.at}`}>
                <strong>{whoVoted(decision)}</strong> {decision.decision === 'approve' ? 'approved' : 'denied'}
                {decision.comment && <q className="comment">{decision.comment}</q>}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
