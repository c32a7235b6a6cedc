import { MessageType } from 'socket.io-adapter';
import type { Namespace } from 'socket.io';
import type { AdapterMessage, PeerSignature, Verdict } from './peer-signature.js';

/** The adapter messages a hub acts on when another sends them besides server-side emits: heartbeats and departures (how many hubs there are). */
const ACTED_ON: ReadonlySet<number> = new Set([MessageType.INITIAL_HEARTBEAT, MessageType.HEARTBEAT, MessageType.ADAPTER_CLOSE]);

/** What the guard overrides on the adapter the PostgreSQL adapter's factory makes. */
interface GuardedParts {
  onMessage(message: AdapterMessage, offset?: string): unknown;
  doPublish(message: AdapterMessage): Promise<string>;
  doPublishResponse(requesterUid: string, response: AdapterMessage): Promise<void>;
  /** Called when a hub closes its adapter or falls silent past the heartbeat timeout. */
  removeNode(uid: string): void;
}

/**
 * A server-side emit of one of `emits`, asking no answer. Socket.IO refuses reserved names such as
 * `connection` only when sending: one arriving would run the hub's connection handler.
 */
function isPeerEmit(message: AdapterMessage, emits: ReadonlySet<string>): boolean {
  const data = message.data as { packet?: unknown; requestId?: unknown } | undefined;
  return message.type === MessageType.SERVER_SIDE_EMIT && Array.isArray(data?.packet) && emits.has(String(data.packet[0])) && data.requestId === undefined;
}

export type Refusal = Exclude<Verdict, 'signed'> | 'not for hubs';

/**
 * The adapter signs everything it sends, and carries out only what a hub of this database signed, and
 * only heartbeats, departures and the hubs' own events (`emits`). Anyone who can connect to the
 * database can NOTIFY on the hubs' channel; unchecked, the adapter would carry out a broadcast to any
 * room, sockets made to join, leave or disconnect, any event run on the server, or a hub counted in
 * or out (which makes the others resync, or keeps a dead hub's loss from doing so). `refused` hears of
 * each message dropped, and why; `departed` of each hub that closed its adapter or fell silent.
 */
export function signedAdapter<A>(
  createAdapter: (nsp: Namespace) => A,
  signature: PeerSignature,
  emits: ReadonlySet<string>,
  refused: (why: Refusal, type: number) => void,
  departed: (uid: string) => void = () => undefined,
): (nsp: Namespace) => A {
  // Socket.IO calls it with `new`, which an arrow function refuses; returning an object from a
  // function called so gives that object, as the adapter's own factory relies on.
  return function guardedAdapter(nsp: Namespace): A {
    const adapter = createAdapter(nsp);
    const parts = adapter as unknown as GuardedParts;
    const receive = parts.onMessage.bind(adapter);
    const publish = parts.doPublish.bind(adapter);
    const publishResponse = parts.doPublishResponse.bind(adapter);
    const removeNode = parts.removeNode.bind(adapter);
    parts.doPublish = (message) => publish(signature.sign(message));
    parts.doPublishResponse = (requesterUid, response) => publishResponse(requesterUid, signature.sign(response));
    parts.onMessage = (message, offset) => {
      const verdict = signature.check(message);
      if (verdict !== 'signed') return refused(verdict, message.type);
      if (!ACTED_ON.has(message.type) && !isPeerEmit(message, emits)) return refused('not for hubs', message.type);
      return receive(message, offset);
    };
    parts.removeNode = (uid) => {
      removeNode(uid);
      departed(uid);
    };
    return adapter;
  };
}
