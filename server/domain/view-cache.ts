import type { GreenlightRequest } from '../../protocol/index.js';

interface Entry {
  version: number;
  /** The request's last audit event when the view was built: notification events join its timeline without a new version. */
  lastSeq: string;
  view: GreenlightRequest;
}

/**
 * Views already built, reused while their request is unchanged: a reconnect storm asks for the same
 * pending requests once per approver, and building each is most of a sync's cost. Every change of a
 * request (status, votes, claim, escalation, grant) raises its version, so (version, last audit
 * event) read from the database decides whether a view still holds, on every hub sharing it. Only
 * views without a grant are kept: they are the same for every viewer.
 */
export class ViewCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 20_000) {}

  get(id: string, version: number, lastSeq: string): GreenlightRequest | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.version !== version || entry.lastSeq !== lastSeq) return undefined;
    return entry.view;
  }

  remember(view: GreenlightRequest, lastSeq: string): void {
    if (view.grant !== null) return;
    // Re-inserting moves the entry to the end, so the oldest is the first to go.
    this.entries.delete(view.id);
    this.entries.set(view.id, { version: view.version, lastSeq, view });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
