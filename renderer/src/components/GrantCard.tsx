import { useId, useState } from 'react';
import type { GrantSummary, GreenlightRequest } from '../../../protocol/request.js';
import { copyText } from '../lib/clipboard.js';
import { countdown } from '../lib/time.js';
import { notify, revokeGrant } from '../store/actions.js';
import { useStore } from '../store/store.js';
import { ConfirmButton } from './ConfirmButton.js';
import { canExtend, ExtendGrant } from './ExtendGrant.js';

/**
 * The grant an approval issued, on one line: its status, the expiry countdown, Copy, and a way to
 * end access early. The token itself (a long JWT) stays out of sight until asked for.
 */
export function GrantCard({ request, grant, now }: { request: GreenlightRequest; grant: GrantSummary; now: number }) {
  const revoking = useStore((state) => Boolean(state.pending[`revoke:${grant.jti}`]));
  const extended = useStore((state) => Object.values(state.requests.byId).some((other) => other.extends === grant.jti && (other.status === 'pending' || other.status === 'approved')));
  const [copied, setCopied] = useState(false);
  const [shown, setShown] = useState(false);
  const tokenId = useId();
  const left = countdown(grant.expiresAt, now);
  const startsIn = grant.notBefore ? countdown(grant.notBefore, now) : 'now';
  const active = grant.status === 'active' && left !== 'now';
  const token = active ? grant.token : undefined;
  return (
    <section className="grant" aria-label="Grant" data-grant-status={grant.status}>
      <div className="grant-head">
        <strong>Grant</strong> <span className={`badge grant-${grant.status}`}>{active ? 'active' : grant.status === 'active' ? 'expired' : grant.status}</span>
        {active && startsIn !== 'now' && grant.notBefore && (
          <span className="small" data-testid="grant-start">
            starts in <time dateTime={grant.notBefore}>{startsIn}</time> ·
          </span>
        )}
        {active && (
          <span className="small" data-testid="grant-expiry">
            expires in <time dateTime={grant.expiresAt}>{left}</time>
          </span>
        )}
        <span className="grant-actions">
          {token && (
            <>
              <button
                type="button"
                onClick={() =>
                  void copyText(token).then((ok) => {
                    setCopied(ok);
                    if (!ok) {
                      setShown(true);
                      notify('error', 'Copy failed: select the token and copy it by hand.');
                    }
                  })
                }
              >
                {copied ? 'Copied' : 'Copy'}
              </button>
              <button type="button" className="link-button" aria-expanded={shown} aria-controls={tokenId} onClick={() => setShown((value) => !value)}>
                {shown ? 'Hide token' : 'Show token'}
              </button>
            </>
          )}
          {canExtend(request, grant, now, extended) && <ExtendGrant grant={grant} />}
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
        </span>
      </div>
      {token && shown && (
        <div className="token-row" id={tokenId}>
          <input className="mono" readOnly value={token} aria-label="Grant token" onFocus={(event) => event.target.select()} />
          <span className="small muted mono">jti {grant.jti}</span>
        </div>
      )}
    </section>
  );
}
