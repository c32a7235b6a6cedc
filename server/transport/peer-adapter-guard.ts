import { MessageType } from 'socket.io-adapter';
import type { Namespace } from 'socket.io';

/** The adapter messages a hub acts on when another sends them besides server-side emits: heartbeats and departures (how many hubs there are). */
const ACTED_ON: ReadonlySet<number> = new Set([MessageType.INITIAL_HEARTBEAT, MessageType.HEARTBEAT, MessageType.ADAPTER_CLOSE]);

interface AdapterMessage {
  type: number;
  data?: { packet?: unknown; requestId?: unknown };
}

interface ReceivingAdapter {
  onMessage(message: AdapterMessage, offset?: string): unknown;
}

/**
 * A server-side emit of one of `emits`, asking no answer. Socket.IO refuses reserved names such as
 * `connection` only when sending: one arriving would run the hub's connection handler.
 */
const isPeerEmit = (message: AdapterMessage, emits: ReadonlySet<string>): boolean =>
  message.type === MessageType.SERVER_SIDE_EMIT && Array.isArray(message.data?.packet) && emits.has(String(message.data.packet[0])) && message.data.requestId === undefined;

/**
 * The PostgreSQL adapter would carry out any message it hears: a broadcast to any room, sockets made
 * to join or leave rooms, or disconnected, any event emitted on the server. Hubs never ask each other
 * for those (every push is made by the hub its sockets are on, from a signed message of `emits`), and
 * anyone who can connect to the database can send one with NOTIFY, so those are dropped as they
 * arrive; `ignored` hears of each.
 */
export function actingOnlyOnPeerMessages<A>(createAdapter: (nsp: Namespace) => A, emits: ReadonlySet<string>, ignored: (type: number) => void): (nsp: Namespace) => A {
  // Socket.IO calls it with `new`, which an arrow function refuses; returning an object from a
  // function called so gives that object, as the adapter's own factory relies on.
  return function guardedAdapter(nsp: Namespace): A {
    const adapter = createAdapter(nsp);
    const receiving = adapter as unknown as ReceivingAdapter;
    const receive = receiving.onMessage.bind(adapter);
    receiving.onMessage = (message, offset) => (ACTED_ON.has(message.type) || isPeerEmit(message, emits) ? receive(message, offset) : ignored(message.type));
    return adapter;
  };
}
