import { MessageType } from 'socket.io-adapter';
import type { Namespace } from 'socket.io';

/**
 * The adapter messages a hub acts on when another sends them: heartbeats and departures (how many
 * hubs there are) and server-side emits (`peer-messages.ts`, which checks each one's signature).
 */
const ACTED_ON: ReadonlySet<number> = new Set([MessageType.INITIAL_HEARTBEAT, MessageType.HEARTBEAT, MessageType.ADAPTER_CLOSE, MessageType.SERVER_SIDE_EMIT]);

interface ReceivingAdapter {
  onMessage(message: { type: number }, offset?: string): unknown;
}

/**
 * The PostgreSQL adapter would carry out any message it hears: a broadcast to any room, sockets made
 * to join or leave rooms, or disconnected. Hubs never ask each other for those (every push is made
 * by the hub its sockets are on, from a signed message), and anyone who can connect to the database
 * can send one with NOTIFY, so those are dropped as they arrive; `ignored` hears of each.
 */
export function actingOnlyOnPeerMessages<A>(createAdapter: (nsp: Namespace) => A, ignored: (type: number) => void): (nsp: Namespace) => A {
  // Socket.IO calls it with `new`, which an arrow function refuses; returning an object from a
  // function called so gives that object, as the adapter's own factory relies on.
  return function guardedAdapter(nsp: Namespace): A {
    const adapter = createAdapter(nsp);
    const receiving = adapter as unknown as ReceivingAdapter;
    const receive = receiving.onMessage.bind(adapter);
    receiving.onMessage = (message, offset) => (ACTED_ON.has(message.type) ? receive(message, offset) : ignored(message.type));
    return adapter;
  };
}
