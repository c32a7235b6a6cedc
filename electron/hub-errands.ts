/**
 * Work at the hub that nobody should wait for, yet that must run to its end: ending a session nobody
 * keeps any more (a cancelled sign-in's, one signed out of, one signed in over). Cancel, sign-out and
 * sign-in answer the person at once and leave it here; `settled` is for whoever must know it is done
 * (tests, before asserting the session no longer works).
 */
export class HubErrands {
  private readonly running = new Set<Promise<void>>();

  /** Runs `errand` without anyone awaiting it. It logs its own failures; anything it throws anyway is logged here. */
  start(what: string, errand: () => Promise<void>): void {
    const run = Promise.resolve()
      .then(errand)
      .catch((error: unknown) => console.warn(`Greenlight: ${what} failed: ${String(error)}`))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Whether an errand is still running. */
  get busy(): boolean {
    return this.running.size > 0;
  }

  /** Resolves once every errand started, including any started meanwhile, has ended. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}

/** Errands of callers that were handed none (a sign-in through the browser run on its own, as in tests). */
export const unownedErrands = new HubErrands();
