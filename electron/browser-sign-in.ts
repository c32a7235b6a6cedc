/**
 * At most one sign-in through the browser at a time. Starting another, or signing in some other way,
 * cancels the one waiting: otherwise a browser finishing it later would sign in over the newer choice.
 */
export class BrowserSignIn {
  private waiting: { cancel: AbortController; ended: Promise<void> } | null = null;

  /** Cancels the sign-in waiting, if any, and runs this one once that one has closed its listener. */
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

  /** Resolves once the sign-in waiting (if any) has ended; true if there was one. */
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
