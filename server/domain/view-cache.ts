import type { GreenlightRequest } from '../../protocol/index.js';

interface Entry {
  version: number;
  /** The request's last audit event when the view was built: notification events join its timeline without a new version. */
  lastSeq: string;
  view: GreenlightRequest;
}

/** Views under construction for one (version, last audit event) of a request. */
interface Flight {
  version: number;
  lastSeq: string;
  /** The view once built; undefined if it is not one to share (it has a grant) or its build failed. */
  view: Promise<GreenlightRequest | undefined>;
}

export interface ViewKey {
  id: string;
  version: number;
  lastSeq: string;
}

/**
 * Views already built, reused while their request is unchanged: a reconnect storm asks for the same
 * pending requests once per approver, and building each is most of a sync's cost. Every change of a
 * request (status, votes, claim, escalation, grant) raises its version, so (version, last audit
 * event) read from the database decides whether a view still holds, on every hub sharing it. Only
 * views without a grant are kept: they are the same for every viewer. Syncs that miss the same views
 * at once (approvers reconnecting together) share one build of them: see `flying`.
 */
export class ViewCache {
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  /** Kept as long as their view is: with them the cache holds about twice the views' own size. */
  private readonly texts = new WeakMap<GreenlightRequest, string>();

  constructor(private readonly capacity = 20_000) {}

  get(id: string, version: number, lastSeq: string): GreenlightRequest | undefined {
    const entry = this.entries.get(id);
    if (!entry || entry.version !== version || entry.lastSeq !== lastSeq) return undefined;
    return entry.view;
  }

  /** The view of this request, version and audit trail that a build under way will yield, if one is. */
  inFlight(id: string, version: number, lastSeq: string): Promise<GreenlightRequest | undefined> | undefined {
    const flight = this.flights.get(id);
    if (!flight || flight.version !== version || flight.lastSeq !== lastSeq) return undefined;
    return flight.view;
  }

  /**
   * Marks the views of `keys` as being built by `build` until it settles, for `inFlight` to hand out.
   * `build` is expected to have remembered what it built by the time it resolves, so a view leaves
   * the flights only once the cache holds it.
   */
  flying(keys: ViewKey[], build: Promise<GreenlightRequest[]>): void {
    // A failed build shares nothing and is not kept: each waiter builds for itself, and so gets its own
    // answer (its own error, or its views if the failure was the first builder's alone).
    const built = build.then(
      (views) => new Map(views.filter((view) => view.grant === null).map((view) => [view.id, view])),
      () => new Map<string, GreenlightRequest>(),
    );
    for (const { id, version, lastSeq } of keys) {
      const flight: Flight = { version, lastSeq, view: built.then((views) => views.get(id)) };
      this.flights.set(id, flight);
      void flight.view.then(() => {
        if (this.flights.get(id) === flight) this.flights.delete(id);
      });
    }
  }

  /**
   * The view's JSON text, kept with a view the cache holds: a reconnect storm sends the same views to
   * every approver, and encoding them is the other large part of a sync. Views the cache holds are
   * shared by every viewer and so never changed in place, which is what lets their text be kept.
   */
  jsonOf(view: GreenlightRequest): string {
    const kept = this.texts.get(view);
    if (kept !== undefined) return kept;
    const json = JSON.stringify(view);
    if (this.entries.get(view.id)?.view === view) this.texts.set(view, json);
    return json;
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
