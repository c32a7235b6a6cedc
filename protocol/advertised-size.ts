import type { Manager } from 'socket.io-client';

/**
 * Tells `heard` the largest message the hub takes, on every connection `manager` opens: engine.io's
 * handshake carries it (`maxPayload`, the server's maxHttpBufferSize), and each connection, the first
 * or one after a drop, is a new engine with a handshake of its own. socket.io-client keeps the figure
 * private and makes each engine inside `open()`, so that is where its handshake is listened for.
 */
export function onAdvertisedSize(manager: Manager, heard: (bytes: number) => void): void {
  const open = manager.open.bind(manager);
  let watched: Manager['engine'] | undefined;
  manager.open = (fn) => {
    open(fn);
    // open() returns early on a connection already opening or open: its engine is already watched.
    if (manager.engine !== watched) {
      watched = manager.engine;
      watched.once('handshake', (data) => {
        if (Number.isSafeInteger(data.maxPayload) && data.maxPayload > 0) heard(data.maxPayload);
      });
    }
    return manager;
  };
}

/**
 * The bytes of one call as it goes over the wire, as the hub's size check counts them: engine.io's
 * message type, Socket.IO's event type and ack id (counted at its longest, 16 digits), then the JSON
 * of the event name and payload. Over long polling one packet alone in a POST is the same bytes.
 */
export function wireBytes(event: string, payloadJson: string, encoder: { encode(text: string): Uint8Array }): number {
  return 2 + 16 + encoder.encode(`[${JSON.stringify(event)},${payloadJson}]`).length;
}
