import { useShallow } from 'zustand/react/shallow';
import { whoVoted, type GreenlightRequest } from '../../../protocol/request.js';
import { useNow } from '../hooks/use-now.js';
import { formatTime } from '../lib/time.js';
import { cancelRequest } from '../store/actions.js';
import { useStore } from '../store/store.js';
import { Votes } from './Badges.js';
import { RequestHeading } from './RequestHeading.js';
import { Deadline } from './Deadline.js';
import { ScheduleNote } from './ScheduleNote.js';
import { GrantCard } from './GrantCard.js';
import { ConfirmButton } from './ConfirmButton.js';
import { ContextPanel } from './ContextPanel.js';
import { Timeline } from './Timeline.js';

/** One of my requests with its live status, votes, grant and what I can still do. */
export function MyRequestCard({ request }: { request: GreenlightRequest }) {
  const now = useNow();
  const { cancelling } = useStore(useShallow((state) => ({ cancelling: Boolean(state.pending[`cancel:${request.id}`]) })));
  const lastComment = [...request.decisions].reverse().find((decision) => decision.comment);
  return (
    <article className="card mine" data-request-id={request.id} aria-label={`${request.action} ${request.resource}`}>
      <RequestHeading request={request} level={3} withEnvironment />
      <p className="reason">{request.reason}</p>
      <p className="small muted">
        Submitted <time dateTime={request.createdAt}>{formatTime(request.createdAt)}</time> · <Votes request={request} />{' '}
        {request.status === 'pending' && <Deadline request={request} now={now} />} <ScheduleNote request={request} now={now} />
        {request.extends && <span className="small muted"> · extends grant {request.extends}</span>}
      </p>
      {lastComment && (
        <p className="small">
          <strong>{whoVoted(lastComment)}</strong>: <q className="comment">{lastComment.comment}</q>
        </p>
      )}
      {request.grant && <GrantCard request={request} grant={request.grant} now={now} />}
      {request.status === 'pending' && (
        <div className="actions">
          <ConfirmButton
            label="Cancel request"
            question="Cancel this request? Approvers stop seeing it."
            confirmLabel="Yes, cancel it"
            disabled={cancelling}
            onConfirm={() => void cancelRequest(request.id)}
          />
        </div>
      )}
      <details className="more">
        <summary>Details: the change, votes and timeline</summary>
        <ContextPanel context={request.context} />
        <Timeline request={request} />
      </details>
    </article>
  );
}
