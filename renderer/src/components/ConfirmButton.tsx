import { useEffect, useRef, useState } from 'react';

/**
 * A button for what can't be undone (ending access, cancelling a request): the first click asks,
 * inline, and only "Yes" acts. Focus moves to the question and back, so keyboards keep their place.
 */
export function ConfirmButton({ label, ariaLabel, question, confirmLabel, onConfirm, disabled, className }: {
  label: string;
  /** The trigger's accessible name where its label alone is ambiguous (one "Revoke" per row). */
  ariaLabel?: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  className?: string;
}) {
  const [asking, setAsking] = useState(false);
  const yesRef = useRef<HTMLButtonElement>(null);
  const triggerRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) yesRef.current?.focus();
    else if (wasAsking.current) triggerRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <button type="button" ref={triggerRef} className={className} disabled={disabled} onClick={() => setAsking(true)} aria-label={ariaLabel}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm-inline" role="group" aria-label={question} onKeyDown={(event) => event.key === 'Escape' && setAsking(false)}>
      <span>{question}</span>{' '}
      <button
        type="button"
        ref={yesRef}
        className={className}
        disabled={disabled}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {confirmLabel}
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}
