/** One piece of long work's place in line: its pieces all take turns in the order the work began. */
export interface TurnTaker {
  /** Resolves on this work's next turn; the caller's synchronous work until its next `await` is that turn. */
  next(): Promise<void>;
}

interface Waiting {
  order: number;
  resolve: () => void;
}

/**
 * Long work (a large sync, a thousand reconnecting approvers each resyncing) takes turns on the event
 * loop: one turn is handed out per pass of the loop, so timers, sockets and other requests run between
 * pieces instead of after all of them. Without it, every sync whose packet arrived in the same read
 * runs back to back and the loop stalls for their sum. The work that began first goes first, so it
 * finishes (and frees what it holds) before later work starts, rather than all finishing at the end.
 */
export class Turns {
  private readonly waiting: Waiting[] = [];
  private scheduled = false;
  private begun = 0;

  begin(): TurnTaker {
    const order = this.begun++;
    return { next: () => new Promise((resolve) => this.enqueue({ order, resolve })) };
  }

  private enqueue(entry: Waiting): void {
    let at = this.waiting.length;
    while (at > 0 && (this.waiting[at - 1]?.order ?? 0) > entry.order) at--;
    this.waiting.splice(at, 0, entry);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(this.handOut);
  }

  private readonly handOut = (): void => {
    this.scheduled = false;
    this.waiting.shift()?.resolve();
    this.schedule();
  };
}
