import type { HubEvent } from '../domain/bus.js';
import { settledBy, type Waiters } from './waiters.js';

/**
 * Hubs sharing a PostgreSQL database hear of each other's request events (`pushes.ts`): one that
 * shows a request leaving `pending` lets long-polls for it here look again now, so a pipeline waiting
 * on this hub is answered as soon as an approver on another decides, rather than at its next poll
 * (which stays, for an event lost while a hub's event connection was down).
 */
export function wakeWaitersOnPeerEvent(waiters: Waiters): (event: HubEvent) => void {
  return (event) => {
    const settled = settledBy(event);
    if (settled) waiters.wake(settled.id);
  };
}
