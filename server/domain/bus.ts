import type { GreenlightRequest } from '../../protocol/index.js';
import type { Audience } from './audience.js';

/** What the domain announces after a transaction commits; transports turn these into pushes. */
export type HubEvent =
  | { type: 'request.created'; request: GreenlightRequest }
  | { type: 'request.updated'; request: GreenlightRequest; notify: Audience }
  /** `newTargets` are told it escalated to them; `previousApprovers` hear of it as an update. */
  | { type: 'request.escalated'; request: GreenlightRequest; step: number; previouslyNotified: string[]; newTargets: Audience; previousApprovers: Audience }
  /** `remind`: approvers who have not voted hear of the request again. */
  | { type: 'request.reminded'; request: GreenlightRequest; reminder: number; approvers: Audience }
  /** To the requester alone: their unused grant ends at `expiresAt`. */
  | { type: 'grant.expiring'; request: GreenlightRequest; expiresAt: string }
  | { type: 'user.disabled'; userId: string }
  /** The user's roles or groups changed: their live sessions must pick up the new ones. */
  | { type: 'user.changed'; userId: string }
  /** Delegations, or a delegator's roles or groups, changed: every hub's pushes to delegates follow. */
  | { type: 'delegations.changed' }
  /** The grant signing key was rotated: every hub reads the keys again, so its JWKS lists the new one. */
  | { type: 'signing_keys.changed' };

/** The events about one request (each carries the requester's full view of it). */
export type RequestEvent = Exclude<HubEvent, { type: 'user.disabled' | 'user.changed' | 'delegations.changed' | 'signing_keys.changed' }>;

/**
 * Events go to each listener in turn. They are announced after the transaction committed, so a
 * listener that throws must not turn a committed change into an error for its caller, nor keep the
 * listeners after it (a long-poll waiting on the request, another hub) from hearing of it.
 */
export class HubBus {
  private readonly listeners = new Set<(event: HubEvent) => void>();

  constructor(private readonly onListenerError: (error: unknown, event: HubEvent) => void = () => undefined) {}

  emit(event: HubEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.onListenerError(error, event);
      }
    }
  }

  on(listener: (event: HubEvent) => void): () => void {
    // Wrapped, so one listener added twice is called twice, as an EventEmitter would.
    const entry = (event: HubEvent) => listener(event);
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }
}
