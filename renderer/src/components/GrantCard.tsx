import { useState } from 'react';
import type { GrantSummary, GreenlightRequest } from '../../../protocol/request.js';
import { copyText } from '../lib/clipboard.js';
import { countdown } from '../lib/time.js';
import { notify, revokeGrant } from '../store/actions.js';
import { useStore } from '../store/store.js';
import { ConfirmButton } from './ConfirmButton.js';

/** The grant an approval issued: its expiry countdown, the token to copy, and a way to end access early. */
export function GrantCard({ request, grant, now }: { request: GreenlightRequest; grant: GrantSummary; now: number }) {
  const revoking = useStore((state) => Boolean(state.pending[`revoke:${grant.jti}`]));
  const [copied, setCopied] = useState(false);
  const left = countdown(grant.expiresAt, now);
  const active = grant.status === 'active' && left !== 'now';
  return (
    <section className="grant" aria-label="Grant" data-grant-status={grant.status}>
      <div className="grant-head">
        <strong>Grant</strong> <span className={`badge grant-${grant.status}`}>{active ? 'active' : grant.status === 'active' ? 'expired' : grant.status}</span>
        {active && (
          <span className="small" data-testid="grant-expiry">
            expires in <time dateTime={grant.expiresAt}>{left}</time>
          </span>
        )}
      </div>
      <p className="small muted mono">jti {grant.jti}</p>
      {grant.token && active && (
        <div className="token-row">
          <input className="mono" readOnly value={grant.token} aria-label="Grant token" onFocus={(event) => event.target.select()} />
          <button
            type="button"
            onClick={() =>
              void copyText(grant.token ?? '').then((ok) => {
                setCopied(ok);
                if (!ok) notify('error', 'Copy failed: select the token and copy it by hand.');
              })
            }
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      {active && (
        <ConfirmButton
          label="End access now"
          question="End this grant now? It can't be used again."
          confirmLabel="Yes, end access"
          className="danger"
          disabled={revoking}
          onConfirm={() => void revokeGrant(request.id, grant.jti)}
        />
      )}
    </section>
  );
}
