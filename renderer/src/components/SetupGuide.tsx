import type { SetupStatus } from '../../../protocol/setup.js';
import { firstRequestCommand, type SetupNeeds } from '../lib/setup.js';
import { showView } from '../store/actions.js';
import { useStore } from '../store/store.js';

/** For an admin whose hub is not ready yet: who to add, where the rules are, how to ask for the first time. */
export function SetupGuide({ setup, needs }: { setup: SetupStatus; needs: SetupNeeds }) {
  const offers = useStore((state) => state.offers);
  const groups = setup.approverGroups.map((group) => group.group);
  return (
    <section className="setup-guide" aria-labelledby="setup-title">
      <h2 id="setup-title">Finish setting up Greenlight</h2>
      <ol className="setup-steps">
        <li>
          <strong>Add approvers.</strong>{' '}
          {needs.alone ? (
            <span data-testid="setup-alone">Nobody but you can sign in yet.</span>
          ) : (
            <span data-testid="setup-unstaffed">
              Nobody can approve for {needs.unstaffed.length === 1 ? 'group' : 'groups'} <strong>{needs.unstaffed.join(', ')}</strong>: requests their rules
              match wait until they expire.
            </span>
          )}{' '}
          Add the people who ask for access, and give those who decide the approver role and one of the policy’s groups ({groups.join(', ') || 'none yet'}).
          <div className="actions">
            <button type="button" className="primary" onClick={() => showView('users')}>
              Open Users
            </button>
          </div>
        </li>
        <li>
          <strong>Check the rules.</strong>{' '}
          {setup.policy.file ? (
            <>
              They come from <code data-testid="policy-file">{setup.policy.file}</code> ({setup.policy.rules} {setup.policy.rules === 1 ? 'rule' : 'rules'}). The hub
              reloads the file when you save it; an edit it can’t read keeps the previous rules, and the reason is logged and audited.
            </>
          ) : (
            <>
              There is no policy file: every request needs one approval from group <code>approvers</code>. Start the hub with{' '}
              <code>--policy policy.yaml</code> to write your own rules.
            </>
          )}
        </li>
        <li>
          <strong>Submit a first request</strong> from <em>New request</em>, or from a terminal or pipeline:
          <pre className="command">{firstRequestCommand(offers)}</pre>
          <div className="actions">
            <button type="button" onClick={() => showView('new')}>
              New request
            </button>
          </div>
        </li>
      </ol>
    </section>
  );
}
