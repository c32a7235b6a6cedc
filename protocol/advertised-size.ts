import type { Manager } from 'socket.io-client';

/** What each connection manager's hub said it takes, shared by every client on that manager. */
const heardBy = new WeakMap<Manager, { bytes: number | null }>();

/**
 * The largest message the hub takes, as its last handshake on `manager` said (null before one):
 * engine.io's handshake carries it (`maxPayload`, the server's maxHttpBufferSize), and each
 * connection, the first or one after a drop, is a new engine with a handshake of its own.
 * socket.io-client keeps the figure private and makes each engine inside `open()`, so that is where
 * its handshake is listened for, once per manager: clients of one hub URL share a manager, and each
 * wrapping it again would keep every one of them alive through it.
 */
export function advertisedSize(manager: Manager): () => number | null {
  let heard = heardBy.get(manager);
  if (!heard) {
    const state: { bytes: number | null } = { bytes: null };
    heardBy.set(manager, state);
    heard = state;
    const open = manager.open.bind(manager);
    let watched: Manager['engine'] | undefined;
    manager.open = (fn) => {
      open(fn);
      // open() returns early on a connection already opening or open: its engine is already watched.
      if (manager.engine !== watched) {
        watched = manager.engine;
        watched.once('handshake', (data) => {
          if (Number.isSafeInteger(data.maxPayload) && data.maxPayload > 0) state.bytes = data.maxPayload;
        });
      }
      return manager;
    };
  }
  const shared = heard;
  return () => shared.bytes;
}

/**
 * The bytes of one call as it goes over the wire, as the hub's size check counts them: engine.io's
 * message type, Socket.IO's event type and ack id (counted at its longest, 16 digits), then the JSON
 * of the event name and payload. Over long polling one packet alone in a POST is the same bytes.
 */
export function wireBytes(event: string, payloadJson: string, encoder: { encode(text: string): Uint8Array }): number {
  return 2 + 16 + encoder.encode(`[${JSON.stringify(event)},${payloadJson}]`).length;
}
