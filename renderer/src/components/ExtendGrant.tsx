import { useId, useState, type FormEvent } from 'react';
import { parseDuration } from '../../../protocol/duration.js';
import type { GrantSummary, GreenlightRequest } from '../../../protocol/request.js';
import { extendGrant } from '../store/actions.js';
import { useStore } from '../store/store.js';

const DEFAULT_EXTEND_BEFORE_SECONDS = 15 * 60;

/** Whether the grant is in its last minutes, when the hub takes an extension, and not extended yet. */
export function canExtend(request: GreenlightRequest, grant: GrantSummary, now: number, extended: boolean): boolean {
  if (extended || (grant.status !== 'active' && grant.status !== 'redeemed')) return false;
  const end = Date.parse(grant.expiresAt);
  const window = (request.rule.extendBeforeSeconds ?? DEFAULT_EXTEND_BEFORE_SECONDS) * 1000;
  return now < end && now >= end - window;
}

/** "Extend": more time after this grant ends, as a new request through the same rule. */
export function ExtendGrant({ grant }: { grant: GrantSummary }) {
  const busy = useStore((state) => Boolean(state.pending[`extend:${grant.jti}`]));
  const [open, setOpen] = useState(false);
  const [ttl, setTtl] = useState('1h');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Extend
      </button>
    );
  }
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const seconds = parseDuration(ttl);
    if (seconds === null) return setError('Use a duration such as 30m or 1h.');
    if (!reason.trim()) return setError('Say why you need more time.');
    setError(null);
    if (await extendGrant(grant.jti, { ttlSeconds: seconds, reason: reason.trim() })) setOpen(false);
  };
  return (
    <form className="extend-form" aria-label="Extend access" onSubmit={(event) => void onSubmit(event)} noValidate>
      <label htmlFor={`${id}-ttl`}>More time</label>
      <input id={`${id}-ttl`} value={ttl} onChange={(event) => setTtl(event.target.value)} size={6} />
      <label htmlFor={`${id}-reason`}>Why</label>
      <input id={`${id}-reason`} value={reason} onChange={(event) => setReason(event.target.value)} />
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Asking…' : 'Ask for more time'}
      </button>
      <button type="button" className="link-button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && (
        <small className="field-error" role="alert">
          {error}
        </small>
      )}
    </form>
  );
}
