import { useEffect } from 'react';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { nextDeadline } from '../../../protocol/urgency.js';
import { useNow } from '../hooks/use-now.js';
import { setupNeeds } from '../lib/setup.js';
import { selectRequest } from '../store/actions.js';
import { loadSetup } from '../store/users-actions.js';
import { useStore } from '../store/store.js';
import { Deadline } from './Deadline.js';
import { SetupGuide } from './SetupGuide.js';
import { PolicyMismatch } from './PolicyMismatch.js';
import { ClockWarning } from './ClockWarning.js';

/** The detail pane with nothing selected: what the hub still needs, hubs that disagree and a clock that is off (admins), what comes due next, and the keys. */
export function EmptyDetail({ inbox }: { inbox: GreenlightRequest[] }) {
  const isAdmin = useStore((state) => state.me?.roles.includes('admin') ?? false);
  const setup = useStore((state) => state.setup);
  const now = useNow();
  useEffect(() => {
    if (isAdmin) void loadSetup();
  }, [isAdmin]);
  const needs = isAdmin && setup ? setupNeeds(setup) : null;
  // Most urgent first (risk, then deadline): the top of the inbox is what to look at next.
  const next = inbox[0];
  return (
    <div className="empty-detail">
      {isAdmin && setup?.cluster && <PolicyMismatch cluster={setup.cluster} ownDigest={setup.policy.digest} />}
      {isAdmin && setup?.cluster && <ClockWarning cluster={setup.cluster} />}
      {needs && setup && <SetupGuide setup={setup} needs={needs} />}
      {next ? (
        <section className="next-up" aria-labelledby="next-up-title">
          <h2 id="next-up-title">Next up</h2>
          <p>
            <strong>{next.action}</strong> <span className="mono">{next.resource}</span> <span className="muted">· {next.environment}</span>
            <span className="muted"> — {next.requester}</span>
          </p>
          <p data-testid="next-deadline">
            {nextDeadline(next) ? <Deadline request={next} now={now} /> : <span className="muted">no deadline</span>}
          </p>
          <button type="button" onClick={() => selectRequest(next.id)}>
            Open it
          </button>{' '}
          <span className="muted small">
            or press <kbd>j</kbd>
          </span>
        </section>
      ) : (
        !needs && <p className="muted">Nothing waits on you. New requests appear here as they arrive, with a desktop notification in the app.</p>
      )}
      <section aria-labelledby="keys-title">
        <h3 id="keys-title">Keys</h3>
        <dl className="keys">
          <dt>
            <kbd>j</kbd> <kbd>k</kbd>
          </dt>
          <dd>open the next or previous request</dd>
          <dt>
            <kbd>a</kbd>
          </dt>
          <dd>approve the open request (risky ones ask you to confirm)</dd>
          <dt>
            <kbd>d</kbd>
          </dt>
          <dd>deny it, with a comment the requester sees</dd>
          <dt>
            <kbd>c</kbd>
          </dt>
          <dd>claim it: other approvers see you are on it, and escalation waits</dd>
          <dt>
            <kbd>Esc</kbd>
          </dt>
          <dd>close it and come back here</dd>
        </dl>
      </section>
    </div>
  );
}
