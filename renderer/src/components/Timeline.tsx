import type { GreenlightRequest } from '../../../protocol/request.js';
import { formatTime } from '../lib/time.js';

const LABELS: Record<string, string> = {
  submitted: 'submitted',
  notified: 'notified',
  escalated: 'escalated',
  claimed: 'claimed',
  released: 'released the claim',
  vote: 'voted',
  approved: 'approved',
  denied: 'denied',
  cancelled: 'cancelled',
  expired: 'expired',
};

export function Timeline({ request }: { request: GreenlightRequest }) {
  return (
    <section aria-labelledby={`timeline-${request.id}`}>
      <h3 id={`timeline-${request.id}`}>Timeline</h3>
      <ol className="timeline">
        {request.timeline.map((entry, index) => (
          <li key={`${entry.at}-${index}`} className={`tl-${entry.type.replace(/[^a-z]/gi, '-')}`}>
            <time dateTime={entry.at} className="muted small">
              {formatTime(entry.at)}
            </time>
            <span>
              <strong>{entry.actor}</strong> {LABELS[entry.type] ?? entry.type}
              {entry.detail && <span className="tl-detail"> — {entry.detail}</span>}
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
                <strong>{decision.approver}</strong> {decision.decision === 'approve' ? 'approved' : 'denied'}
                {decision.comment && <q className="comment">{decision.comment}</q>}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
