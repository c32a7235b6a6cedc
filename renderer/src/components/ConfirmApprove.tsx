import { useEffect, useRef } from 'react';
import type { GreenlightRequest } from '../../../protocol/request.js';

/** A second, deliberate step before approving a high or critical risk request. */
export function ConfirmApprove({ request, onConfirm, onCancel }: { request: GreenlightRequest; onConfirm: () => void; onCancel: () => void }) {
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => confirmRef.current?.focus(), []);
  return (
    <div
      className="confirm"
      role="alertdialog"
      aria-labelledby={`confirm-${request.id}`}
      aria-describedby={`confirm-desc-${request.id}`}
      onKeyDown={(event) => {
        if (event.key === 'Escape') onCancel();
      }}
    >
      <p id={`confirm-${request.id}`}>
        <strong>
          Approve a {request.risk} risk {request.action} on {request.resource} ({request.environment})?
        </strong>
      </p>
      <p id={`confirm-desc-${request.id}`} className="muted small">
        {request.requester} gets access as soon as the approvals are complete.
      </p>
      <div className="actions">
        <button type="button" className="primary" ref={confirmRef} onClick={onConfirm}>
          Yes, approve
        </button>
        <button type="button" onClick={onCancel}>
          Back
        </button>
      </div>
    </div>
  );
}
