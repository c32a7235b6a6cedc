import { EventEmitter } from 'node:events';
import type { GreenlightRequest } from '../../protocol/index.js';

/** What the domain announces after a transaction commits; transports turn these into pushes. */
export type HubEvent =
  | { type: 'request.created'; request: GreenlightRequest }
  | { type: 'request.updated'; request: GreenlightRequest; notify: string[] }
  | { type: 'request.escalated'; request: GreenlightRequest; step: number; previouslyNotified: string[]; newTargets: string[]; previousRooms: string[] }
  | { type: 'user.disabled'; userId: string }
  /** The user's roles or groups changed: their live sessions must pick up the new ones. */
  | { type: 'user.changed'; userId: string };

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
