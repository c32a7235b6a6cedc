import { MessageType } from 'socket.io-adapter';
import type { Server } from 'socket.io';
import type { Logger } from 'pino';

/** What the adapter's messages of these types say (a hub is alive, or leaving) no client can miss. */
const NOTHING_FOR_CLIENTS: ReadonlySet<number> = new Set([MessageType.INITIAL_HEARTBEAT, MessageType.HEARTBEAT, MessageType.ADAPTER_CLOSE]);

/** Whether an adapter message (its JSON payload) that failed to go out may have carried news for other hubs' clients. */
export function mayCarryNews(payload: string): boolean {
  try {
    const type: unknown = (JSON.parse(payload) as { type?: unknown }).type;
    return !(typeof type === 'number' && NOTHING_FOR_CLIENTS.has(type));
  } catch {
    return true;
  }
}

/** What happens to the cross-hub adapter's queries, as the pool it is handed reports it. */
export interface AdapterQueries {
  /** A message went out (its NOTIFY ran). */
  sent(): void;
  /** A message's NOTIFY failed. */
  notifyFailed(payload: string, error: unknown): void;
  /** Any other query of the adapter's failed (storing a long message, reading one, cleaning up). */
  queryFailed(text: string, error: unknown): void;
}

/**
 * The opening words of @socket.io/postgres-adapter's own SQL (its `util.js`): how it stores a
 * message too long for NOTIFY before notifying its id, and how a receiver fetches that body.
 */
const STORES_LONG_MESSAGE = 'INSERT INTO ';
const READS_LONG_MESSAGE = 'SELECT payload';
const LOST_EVENT = 'pushes:lost';

/**
 * Cross-hub messages are not stored: one that fails on either end is gone, and the clients it was
 * for hold an older state until they sync again (`mayHaveMissed`).
 * - Sending: once a message goes out again after a loss, this hub tells the others so, and each
 *   has its clients sync. Told at most once per run of failures; if telling fails too, the next
 *   message that goes out tells it (the adapter's heartbeat makes one at least every 5 s).
 * - Receiving: the adapter reports a message it could not read (a long one whose stored body could
 *   not be fetched, say) through its error handler, with no other sign: any error there that is
 *   not one of the sending or cleaning-up failures seen below means this hub missed a message.
 */
export function watchCrossHubLosses(
  io: Server,
  log: Logger,
  mayHaveMissed: (why: string) => void,
): { queries: AdapterQueries; adapterError(error: unknown): void; sendingLost(): void } {
  io.on(LOST_EVENT, () => {
    log.info('another hub could not send what it committed for a while; clients here sync again');
    mayHaveMissed('another hub could not send what it committed for a while');
  });
  const notReceiving = new WeakSet<object>();
  let owed = false;
  const lost = () => {
    if (!owed) log.warn('a cross-hub message could not be sent; the other hubs will have their clients sync again once sending works');
    owed = true;
  };
  const seen = (error: unknown) => {
    if (typeof error === 'object' && error !== null) notReceiving.add(error);
  };
  return {
    /** Messages this hub sent may not have been taken (refused as out of time, say): the others are told once the next one goes out. */
    sendingLost: () => {
      owed = true;
    },
    queries: {
      sent() {
        if (!owed) return;
        owed = false;
        log.info('cross-hub messages go out again; telling the other hubs to have their clients sync');
        io.serverSideEmit(LOST_EVENT);
      },
      notifyFailed(payload, error) {
        seen(error);
        if (mayCarryNews(payload)) lost();
      },
      queryFailed(text, error) {
        if (text.startsWith(STORES_LONG_MESSAGE)) {
          seen(error);
          lost();
        } else if (!text.startsWith(READS_LONG_MESSAGE)) seen(error);
      },
    },
    adapterError(error) {
      log.warn({ err: error }, 'cross-hub event failed');
      if (typeof error === 'object' && error !== null && notReceiving.has(error)) return;
      log.info('a message from another hub could not be read; clients here sync again');
      mayHaveMissed('a message from another hub could not be read');
    },
  };
}
