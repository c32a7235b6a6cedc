import type { GreenlightRequest } from '../../../protocol/request.js';
import { useNow } from '../hooks/use-now.js';
import { formatTime } from '../lib/time.js';
import { Votes } from './Badges.js';
import { RequestHeading } from './RequestHeading.js';
import { Deadline } from './Deadline.js';
import { ScheduleNote } from './ScheduleNote.js';
import { ContextPanel } from './ContextPanel.js';
import { DecisionPanel } from './DecisionPanel.js';
import { AdminCancel } from './AdminCancel.js';
import { ReviewPanel } from './ReviewPanel.js';
import { Timeline } from './Timeline.js';

export function RequestDetail({ request, onBack }: { request: GreenlightRequest; onBack?: () => void }) {
  const now = useNow();
  return (
    <article className="detail" aria-labelledby={`title-${request.id}`} data-request-id={request.id}>
      {onBack && (
        <button type="button" className="link-button back" onClick={onBack}>
          ← Back to inbox
        </button>
      )}
      <RequestHeading request={request} level={2} titleId={`title-${request.id}`} sticky />
      <dl className="facts">
        <div>
          <dt>Environment</dt>
          <dd>{request.environment}</dd>
        </div>
        <div>
          <dt>Requester</dt>
          <dd>{request.requester}</dd>
        </div>
        <div>
          <dt>Approvals</dt>
          <dd>
            <Votes request={request} />
          </dd>
        </div>
        <div>
          <dt>Submitted</dt>
          <dd>
            <time dateTime={request.createdAt}>{formatTime(request.createdAt)}</time>
          </dd>
        </div>
        {request.status === 'pending' && (
          <div>
            <dt>Next</dt>
            <dd>
              <Deadline request={request} now={now} />
            </dd>
          </div>
        )}
        {request.notBefore && (
          <div>
            <dt>Access</dt>
            <dd>
              <ScheduleNote request={request} now={now} />
            </dd>
          </div>
        )}
        {request.extends && (
          <div>
            <dt>Extends</dt>
            <dd className="mono">grant {request.extends}</dd>
          </div>
        )}
        <div>
          <dt>Rule</dt>
          <dd className="mono">{request.rule.name}</dd>
        </div>
      </dl>
      <section aria-labelledby={`reason-${request.id}`}>
        <h3 id={`reason-${request.id}`}>Reason</h3>
        <p className="reason" data-testid="reason">
          {request.reason}
        </p>
      </section>
      {request.breakGlass ? <ReviewPanel key={request.id} request={request} /> : <DecisionPanel key={request.id} request={request} />}
      <AdminCancel key={`cancel-${request.id}`} request={request} />
      <ContextPanel context={request.context} />
      <Timeline request={request} />
    </article>
  );
}
