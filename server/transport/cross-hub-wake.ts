import { requestIdSchema } from '../../protocol/index.js';
import type { HubBus } from '../domain/bus.js';
import type { HubServer } from './socket.js';
import type { Waiters } from './waiters.js';

/**
 * Hubs sharing a PostgreSQL database tell each other when a request stops pending, so a long-poll
 * held by one hub answers as soon as an approver on another decides, rather than at its next poll
 * (which stays, for a message lost while a hub's event connection was down).
 */
export function wakeWaitersAcrossHubs(io: HubServer, bus: HubBus, waiters: Waiters): () => void {
  io.on('request:settled', (requestId: unknown) => {
    const parsed = requestIdSchema.safeParse(requestId);
    if (parsed.success) waiters.wake(parsed.data);
  });
  return bus.on((event) => {
    if (event.type !== 'request.updated' && event.type !== 'request.escalated') return;
    if (event.request.status !== 'pending') io.serverSideEmit('request:settled', event.request.id);
  });
}
