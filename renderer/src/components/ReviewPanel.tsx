import { useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { reviewsFor, waitsOnMe } from '../../../protocol/waits-on-me.js';
import { formatTime } from '../lib/time.js';
import { reviewBreakGlass } from '../store/actions.js';
import { useStore } from '../store/store.js';

/**
 * A break-glass use, after the fact: its incident and review state, and for a reviewer (or a
 * reviewer's delegate, told for whom) Ratify or Unratify, each with a comment for the record.
 */
export function ReviewPanel({ request }: { request: GreenlightRequest }) {
  const { me, busy, online } = useStore(useShallow((state) => ({ me: state.me, busy: Boolean(state.pending[`review:${request.id}`]), online: state.state === 'connected' })));
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState('');
  const commentId = useId();
  const forWhomId = useId();
  const glass = request.breakGlass;
  if (!glass) return null;
  const canReview = me !== null && waitsOnMe(request, me);
  // As myself when I am a reviewer; for the one reviewer I stand in for; with several, I say which (the hub checks again).
  const candidates = me ? reviewsFor(request, me) : [];
  const asMyself = me !== null && candidates[0] === me.name;
  const choosing = candidates.length > 1;
  const reviewer = choosing ? chosen || (asMyself ? (me?.name ?? '') : '') : (candidates[0] ?? '');
  const forWhom = reviewer !== '' && reviewer !== me?.name ? reviewer : undefined;
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
          {choosing ? (
            <>
              <label htmlFor={forWhomId}>Review for</label>
              <select id={forWhomId} value={reviewer} onChange={(event) => setChosen(event.target.value)}>
                {!asMyself && (
                  <option value="" disabled>
                    Choose whom you stand in for
                  </option>
                )}
                {candidates.map((name) => (
                  <option key={name} value={name}>
                    {name === me?.name ? 'Myself' : `${name}, as their delegate`}
                  </option>
                ))}
              </select>
            </>
          ) : (
            forWhom && (
              <p data-testid="review-for">
                You review for <strong>{forWhom}</strong>, as their delegate.
              </p>
            )
          )}
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
