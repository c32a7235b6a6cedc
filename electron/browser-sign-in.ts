/**
 * At most one sign-in through the browser at a time, from the wait for the browser until main is signed
 * in. Starting another, or signing in some other way, cancels the one under way and waits for it to end:
 * otherwise a browser finishing it later, or main still connecting with its session, would sign in over
 * the newer choice.
 */
export class BrowserSignIn {
  private waiting: { cancel: AbortController; ended: Promise<void> } | null = null;

  /** Cancels the sign-in under way, if any, and runs this one once that one has ended. */
  run<T>(signIn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const previous = this.cancel();
    const entry = { cancel: new AbortController(), ended: Promise.resolve() };
    this.waiting = entry;
    const result = previous
      .then(() => signIn(entry.cancel.signal))
      .finally(() => {
        if (this.waiting === entry) this.waiting = null;
      });
    entry.ended = result.then(ignore, ignore);
    return result;
  }

  /** Resolves once the sign-in under way (if any) has ended and undone what it did; true if there was one. */
  async cancel(): Promise<boolean> {
    const waiting = this.waiting;
    if (!waiting) return false;
    this.waiting = null;
    waiting.cancel.abort();
    await waiting.ended;
    return true;
  }
}

const ignore = (): void => undefined;
