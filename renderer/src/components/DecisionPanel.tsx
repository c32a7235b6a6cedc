import { useEffect, useId, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { describeProgress } from '../../../protocol/quorum.js';
import { isEligible } from '../../../protocol/urgency.js';
import { decidesFor } from '../../../protocol/waits-on-me.js';
import { useShortcuts } from '../hooks/use-shortcuts.js';
import { approve, claim, deny, release } from '../store/actions.js';
import { describeOutcome, myVote, waitsOn } from '../store/requests-model.js';
import { formatTime } from '../lib/time.js';
import { fromLocalInput, offsetLabel, toLocalInput } from '../lib/schedule.js';
import { useStore } from '../store/store.js';
import { ConfirmApprove } from './ConfirmApprove.js';
import { StandInPicker, useStandIn } from './StandInPicker.js';
import { CHOOSE_FIRST, ctrlEnter, ctrlEnterHint, type Intent } from '../lib/decision-intent.js';

const needsConfirmation = (request: GreenlightRequest) => request.risk === 'high' || request.risk === 'critical';

/**
 * Approve / deny / claim for a request that waits on me, with shortcuts and a confirmation for risky ones.
 * Render it keyed by the request's id: a focused button must never carry over to another request.
 */
export function DecisionPanel({ request }: { request: GreenlightRequest }) {
  const { me, busy, online } = useStore(
    useShallow((state) => ({ me: state.me, busy: Boolean(state.pending[`decide:${request.id}`] || state.pending[`claim:${request.id}`]), online: state.state === 'connected' })),
  );
  const [comment, setComment] = useState('');
  const initialStart = request.notBefore ? toLocalInput(request.notBefore) : '';
  const [start, setStart] = useState(initialStart);
  // Another approver may move the start while this panel is open. A field still showing the old
  // start follows it: approving must never send that old start back as a move of its own. A start
  // typed here stays, as typed.
  const [startShownFrom, setStartShownFrom] = useState(initialStart);
  if (startShownFrom !== initialStart) {
    setStartShownFrom(initialStart);
    if (start === startShownFrom) setStart(initialStart);
  }
  const [startError, setStartError] = useState<string | null>(null);
  const startId = useId();
  const [commentError, setCommentError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  // What Ctrl+Enter sends: only ever what the person chose, never a default.
  const [intent, setIntent] = useState<Intent>(null);
  const [askChoice, setAskChoice] = useState(false);
  const commentRef = useRef<HTMLTextAreaElement>(null);
  const commentId = useId();
  const canDecide = waitsOn(request, me);
  // As myself when it waits on my vote; for the one approver I stand in for; with several, I say which (the hub checks again).
  const standIn = useStandIn(me ? decidesFor(request, me) : [], me?.name);
  const voter = standIn.voter;
  const onBehalfOf = standIn.onBehalfOf;
  const [forWhomError, setForWhomError] = useState<string | null>(null);
  const forWhomId = useId();
  const forWhomRef = useRef<HTMLSelectElement>(null);
  /** False (and says why) while a delegate of several approvers has not said for whom. */
  const forWhomKnown = () => {
    if (voter !== '') return true;
    setForWhomError('Choose whom you decide for: you stand in for more than one approver here.');
    forWhomRef.current?.focus();
    return false;
  };
  const noteRef = useRef<HTMLParagraphElement>(null);
  const couldDecide = useRef(canDecide);
  // Deciding removes the buttons that had focus; keep the keyboard's place on what replaced them.
  useEffect(() => {
    if (couldDecide.current && !canDecide && (document.activeElement === document.body || document.activeElement === null)) noteRef.current?.focus();
    couldDecide.current = canDecide;
  }, [canDecide]);

  const choose = (next: Intent) => {
    setIntent(next);
    setAskChoice(false);
  };
  const doApprove = () => {
    if (!canDecide || busy || !online) return;
    choose('approve');
    if (!forWhomKnown()) return;
    if (needsConfirmation(request) && !confirming) {
      setConfirming(true);
      return;
    }
    const moved = movedStart(start, initialStart);
    if ('error' in moved) {
      setStartError(moved.error);
      setConfirming(false);
      return;
    }
    setStartError(null);
    setConfirming(false);
    void approve(request.id, comment, moved.notBefore, onBehalfOf);
  };
  const doDeny = () => {
    if (!canDecide || busy || !online) return;
    choose('deny');
    if (!comment.trim()) {
      setCommentError('Say why you deny: the requester sees your comment.');
      commentRef.current?.focus();
      return;
    }
    setCommentError(null);
    if (!forWhomKnown()) return;
    void deny(request.id, comment, onBehalfOf);
  };
  const claimedByMe = request.claim?.by === me?.name;
  const doClaim = () => {
    if (!canDecide || busy || !online) return;
    void (claimedByMe ? release(request.id) : claim(request.id));
  };
  const onCtrlEnter = () => {
    const outcome = ctrlEnter(intent);
    if ('ask' in outcome) setAskChoice(true);
    else if (outcome.send === 'deny') doDeny();
    else doApprove();
  };
  useShortcuts({ a: doApprove, d: doDeny, c: doClaim }, canDecide && !confirming);

  if (!canDecide) {
    return (
      <p className="decision-note muted" ref={noteRef} tabIndex={-1} role="status">
        {whyNoDecision(request, me)}
      </p>
    );
  }
  const ctrlEnterKeys = (
    <>
      <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
    </>
  );
  return (
    <section className="decision" aria-label="Decide" data-intent={intent ?? 'none'}>
      <StandInPicker
        standIn={{
          ...standIn,
          choose: (name) => {
            standIn.choose(name);
            setForWhomError(null);
          },
        }}
        id={forWhomId}
        label="Decide for"
        verb="decide"
        testId="decide-for"
        error={forWhomError}
        selectRef={forWhomRef}
      />
      <label className="field" htmlFor={commentId}>
        <span>Comment (required to deny)</span>
      </label>
      <textarea
        id={commentId}
        ref={commentRef}
        rows={2}
        value={comment}
        onChange={(event) => {
          setComment(event.target.value);
          if (event.target.value.trim()) setCommentError(null);
        }}
        onKeyDown={(event) => {
          // Typing here turns the single-key shortcuts off: Ctrl/⌘+Enter sends the chosen decision, Escape leaves the box.
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            onCtrlEnter();
          } else if (event.key === 'Escape') {
            event.currentTarget.blur();
          }
        }}
        aria-invalid={commentError ? true : undefined}
        aria-describedby={`${commentId}-hint${commentError ? ` ${commentId}-error` : ''}${askChoice ? ` ${commentId}-choose` : ''}`}
        aria-keyshortcuts="Control+Enter Meta+Enter"
      />
      <div className="intent-row">
        <fieldset className="intent">
          <legend className="muted small">With this comment</legend>
          <label>
            <input type="radio" name={`${commentId}-intent`} checked={intent === 'approve'} onChange={() => choose('approve')} /> approve
          </label>
          <label>
            <input type="radio" name={`${commentId}-intent`} checked={intent === 'deny'} onChange={() => choose('deny')} /> deny
          </label>
        </fieldset>
        <small id={`${commentId}-hint`} className="muted" data-testid="ctrl-enter-hint">
          {ctrlEnterKeys} {ctrlEnterHint(intent)} · <kbd>Esc</kbd> leaves the box for the shortcuts
        </small>
      </div>
      {askChoice && (
        <p id={`${commentId}-choose`} className="field-error" role="alert">
          {CHOOSE_FIRST}
        </p>
      )}
      {commentError && (
        <p id={`${commentId}-error`} className="field-error" role="alert">
          {commentError}
        </p>
      )}
      <div className="field start-field">
        <label htmlFor={startId}>Access starts</label>
        <input
          id={startId}
          type="datetime-local"
          value={start}
          onChange={(event) => {
            setStart(event.target.value);
            setStartError(null);
          }}
          aria-invalid={startError ? true : undefined}
          aria-describedby={`${startId}-hint${startError ? ` ${startId}-error` : ''}`}
        />
        <small id={`${startId}-hint`} className="muted">
          {initialStart ? 'As the requester asked' : 'Empty: when approved'}; change it to move the start (the requester is told). Your local time ({offsetLabel(new Date())}).
        </small>
        {startError && (
          <small id={`${startId}-error`} className="field-error" role="alert">
            {startError}
          </small>
        )}
      </div>
      {!online && (
        <p className="decision-offline" role="status">
          Not connected to the hub: deciding is paused until it reconnects. Nothing is sent meanwhile.
        </p>
      )}
      {confirming ? (
        <ConfirmApprove request={request} onConfirm={doApprove} onCancel={() => setConfirming(false)} />
      ) : (
        <div className="actions">
          <button type="button" className={`primary approve${intent === 'approve' ? ' chosen' : ''}`} onClick={doApprove} disabled={busy || !online} aria-keyshortcuts={intent === 'approve' ? 'a Control+Enter' : 'a'}>
            Approve <kbd>a</kbd>
            {intent === 'approve' && <> {ctrlEnterKeys}</>}
          </button>
          <button type="button" className={`danger${intent === 'deny' ? ' chosen' : ''}`} onClick={doDeny} disabled={busy || !online} aria-keyshortcuts={intent === 'deny' ? 'd Control+Enter' : 'd'}>
            Deny <kbd>d</kbd>
            {intent === 'deny' && <> {ctrlEnterKeys}</>}
          </button>
          <button type="button" onClick={doClaim} disabled={busy || !online} aria-keyshortcuts="c">
            {claimedByMe ? 'Release' : 'Claim'} <kbd>c</kbd>
          </button>
        </div>
      )}
    </section>
  );
}

/** The start to send with an approval: none when unchanged, an error when it can't be read or has passed. */
function movedStart(value: string, initial: string): { notBefore?: string } | { error: string } {
  if (value === initial || !value.trim()) return {};
  const date = fromLocalInput(value);
  if (!date) return { error: 'Choose a date and time for the start.' };
  if (date.getTime() <= Date.now()) return { error: 'The start must be in the future.' };
  return { notBefore: date.toISOString() };
}

function whyNoDecision(request: GreenlightRequest, me: { name: string; groups: string[]; roles: string[] } | null): string {
  if (request.status !== 'pending') return `This request is ${describeOutcome(request)}${request.decidedAt ? ` (${formatTime(request.decidedAt)})` : ''}.`;
  const vote = me ? myVote(request, me) : null;
  if (vote) {
    const voted = vote.approver === me?.name ? 'You voted.' : `You voted for ${vote.approver}.`;
    const open = request.quorum?.filter((line) => line.approvers.length < line.count);
    if (open) return `${voted} Waiting for ${open.map((line) => `${line.group} ${line.count - line.approvers.length}`).join(' + ')}.`;
    const missing = request.rule.minApprovals - request.approvals;
    return `${voted} Waiting for ${missing} more approval${missing === 1 ? '' : 's'}.`;
  }
  if (me && request.requester === me.name) return 'This is your request; others decide it.';
  if (request.quorum && isEligible(request, me ?? { name: '', groups: [], roles: [] })) return `The lines you count toward are met (${describeProgress(request.quorum)}); others decide the rest.`;
  return 'You are not an approver for this request.';
}
