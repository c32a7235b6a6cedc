/**
 * Rejects with `error()` once the signal aborts (at once if it already has); never settles without one.
 * Race it against each step of a cancellable task; call `stopListening` when the task ends.
 */
export function whenCancelled(signal: AbortSignal | undefined, error: () => Error): { cancelled: Promise<never>; stopListening: () => void } {
  let stopListening: () => void = () => undefined;
  const cancelled = new Promise<never>((_, reject) => {
    if (!signal) return;
    const onAbort = () => reject(error());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stopListening = () => signal.removeEventListener('abort', onAbort);
  });
  // Raced at each step; a cancel between steps must not count as unhandled.
  cancelled.catch(() => undefined);
  return { cancelled, stopListening };
}
