import { EventEmitter } from 'node:events';
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

export class HubBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(event: HubEvent): void {
    this.emitter.emit('event', event);
  }

  on(listener: (event: HubEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
