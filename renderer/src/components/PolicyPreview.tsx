import { useEffect, useState } from 'react';
import { formatDuration } from '../../../protocol/duration.js';
import { explainQuerySchema, type PolicyExplanation } from '../../../protocol/policy-explain.js';
import { toWireError } from '../lib/errors.js';
import { getBridge } from '../store/actions.js';

type Load = { state: 'idle' } | { state: 'ready'; explanation: PolicyExplanation } | { state: 'error'; message: string };

/** Typing settles before the hub is asked, so each keystroke does not cost a request. */
const SETTLE_MS = 300;

/** Before submitting: what the policy will need for this request ("needs sre 1 + security 1; escalates to sre-leads in 10m"). */
export function PolicyPreview({ action, resource, environment, risk }: { action: string; resource: string; environment: string; risk: string }) {
  const [load, setLoad] = useState<Load>({ state: 'idle' });
  useEffect(() => {
    const parsed = explainQuerySchema.safeParse({ action, resource, environment, risk });
    if (!parsed.success) {
      setLoad({ state: 'idle' });
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      const query = new URLSearchParams({ action: parsed.data.action, resource: parsed.data.resource, environment: parsed.data.environment, risk: parsed.data.risk });
      getBridge()
        .explainPolicy(query.toString())
        .then((explanation) => current && setLoad({ state: 'ready', explanation }))
        .catch((error: unknown) => current && setLoad({ state: 'error', message: toWireError(error).message }));
    }, SETTLE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [action, resource, environment, risk]);

  if (load.state === 'idle') return null;
  if (load.state === 'error') return <p className="muted small">Could not ask the policy: {load.message}</p>;
  const { explanation } = load;
  const access = accessLimits(explanation);
  return (
    <div aria-live="polite">
      <p className={`policy-preview${explanation.matched ? '' : ' error-box'}`} data-testid="policy-preview">
        {explanation.matched ? `Rule ${explanation.rule ?? ''}: ${explanation.summary}` : `No rule covers this request, so it would be refused.`}
      </p>
      {access && (
        <p className="muted small" data-testid="policy-access">
          {access}
        </p>
      )}
    </div>
  );
}

/** What the grant would allow: how long at most, and only inside which weekly windows (the form's "Access for" is capped by it). */
function accessLimits(explanation: PolicyExplanation): string | null {
  if (!explanation.matched || explanation.grantTtlSeconds === null) return null;
  const windows = explanation.windows.map((window) => `${window.days.join(', ')} ${window.from}–${window.to} (${window.timezone})`);
  return `Access lasts at most ${formatDuration(explanation.grantTtlSeconds)}${windows.length ? `, only ${windows.join(' or ')}` : ''}.`;
}
