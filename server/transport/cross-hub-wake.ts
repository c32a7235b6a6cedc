import { requestIdSchema } from '../../protocol/index.js';
import type { HubBus } from '../domain/bus.js';
import type { HubServer } from './hub-server.js';
import { settledBy, type Waiters } from './waiters.js';

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
    const settled = settledBy(event);
    if (settled) io.serverSideEmit('request:settled', settled.id);
  });
}
