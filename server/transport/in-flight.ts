/**
 * Work a transport has started and not yet finished. A hub that stops lets it end first, so a
 * change it commits is pushed while the hub can still push it.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly counted?: { inc(): void; dec(): void }) {}

  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    this.counted?.inc();
    const done = () => {
      this.pending.delete(work);
      this.counted?.dec();
    };
    work.then(done, done);
    return work;
  }

  /** Settles once everything tracked so far, and anything it started meanwhile, has ended. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
