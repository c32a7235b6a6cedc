import { useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { reviewsFor, waitsOnMe } from '../../../protocol/waits-on-me.js';
import { formatTime } from '../lib/time.js';
import { reviewBreakGlass } from '../store/actions.js';
import { useStore } from '../store/store.js';
import { StandInPicker, useStandIn } from './StandInPicker.js';

/**
 * A break-glass use, after the fact: its incident and review state, and for a reviewer (or a
 * reviewer's delegate, told for whom) Ratify or Unratify, each with a comment for the record.
 */
export function ReviewPanel({ request }: { request: GreenlightRequest }) {
  const { me, busy, online } = useStore(useShallow((state) => ({ me: state.me, busy: Boolean(state.pending[`review:${request.id}`]), online: state.state === 'connected' })));
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const commentId = useId();
  const forWhomId = useId();
  // As myself when I am a reviewer; for the one reviewer I stand in for; with several, I say which (the hub checks again).
  const standIn = useStandIn(me ? reviewsFor(request, me) : [], me?.name);
  const glass = request.breakGlass;
  if (!glass) return null;
  const canReview = me !== null && waitsOnMe(request, me);
  const reviewer = standIn.voter;
  const forWhom = standIn.onBehalfOf;
  const send = (outcome: 'ratified' | 'unratified') => {
    if (!comment.trim()) {
      setError('Say why, for the record: a review needs a comment.');
      return;
    }
    if (reviewer === '') {
      setError('Choose whom you review for: you stand in for more than one reviewer here.');
      return;
    }
    setError(null);
    void reviewBreakGlass(request.id, outcome, comment, forWhom);
  };
  return (
    <section className="decision" aria-label="Break-glass review">
      <h3>Review break-glass</h3>
      <p>
        <strong>{request.requester}</strong> broke glass for incident <strong className="mono">{glass.incident}</strong>.{' '}
        {glass.review === 'open' && <>Review due {formatTime(glass.reviewDueAt)}.</>}
        {glass.review === 'overdue' && <strong>Review overdue since {formatTime(glass.reviewDueAt)}.</strong>}
      </p>
      {(glass.review === 'ratified' || glass.review === 'unratified') && (
        <p data-testid="review-outcome">
          {glass.review} by {glass.reviewedBy ?? 'a reviewer'}
          {glass.reviewedFor ? ` for ${glass.reviewedFor}` : null}
          {glass.reviewComment ? <>: <q className="comment">{glass.reviewComment}</q></> : null}
        </p>
      )}
      {canReview && (
        <>
          <StandInPicker standIn={standIn} id={forWhomId} label="Review for" verb="review" testId="review-for" />
          <label htmlFor={commentId}>Comment (required)</label>
          <textarea id={commentId} value={comment} onChange={(event) => setComment(event.target.value)} aria-invalid={error !== null} aria-describedby={error ? `${commentId}-error` : undefined} />
          {error && (
            <p id={`${commentId}-error`} className="field-error" role="alert">
              {error}
            </p>
          )}
          <div className="actions">
            <button type="button" className="primary" disabled={busy || !online} onClick={() => send('ratified')}>
              Ratify
            </button>{' '}
            <button type="button" className="danger" disabled={busy || !online} onClick={() => send('unratified')}>
              Unratify
            </button>
          </div>
        </>
      )}
    </section>
  );
}
