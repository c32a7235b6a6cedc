import { useId, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { cancelAsAdmin } from '../store/actions.js';
import { useStore } from '../store/store.js';

/**
 * An admin ends someone's pending request: the reason is required, because the requester is told
 * who cancelled it and why.
 */
export function AdminCancel({ request }: { request: GreenlightRequest }) {
  const { isAdmin, myName, busy, online } = useStore(
    useShallow((state) => ({
      isAdmin: state.me?.roles.includes('admin') ?? false,
      myName: state.me?.name ?? null,
      busy: Boolean(state.pending[`cancel:${request.id}`]),
      online: state.state === 'connected',
    })),
  );
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const reasonId = useId();
  // The requester cancels their own from My requests, where no reason is asked.
  if (!isAdmin || request.status !== 'pending' || request.requester === myName) return null;
  if (!open) {
    return (
      <section className="admin-cancel" aria-label="Admin">
        <button type="button" onClick={() => setOpen(true)}>
          Cancel…
        </button>
      </section>
    );
  }
  const submit = () => {
    if (!reason.trim()) {
      setError(`Say why: ${request.requester} is told who cancelled and why.`);
      return;
    }
    setError(null);
    void cancelAsAdmin(request.id, reason);
  };
  return (
    <section className="admin-cancel" aria-label="Admin">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          submit();
        }}
      >
        <label htmlFor={reasonId}>Reason for cancelling (required)</label>
        <textarea id={reasonId} value={reason} onChange={(event) => setReason(event.target.value)} aria-invalid={error !== null} aria-describedby={error ? `${reasonId}-error` : undefined} autoFocus />
        {error && (
          <p id={`${reasonId}-error`} className="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="danger" disabled={busy || !online}>
          Cancel request
        </button>{' '}
        <button type="button" onClick={() => setOpen(false)}>
          Keep it
        </button>
      </form>
    </section>
  );
}
