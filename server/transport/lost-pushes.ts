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

/** How the cross-hub publishing path reports what happened to each message. */
export interface PublishOutcomes {
  /** A message that may have carried news for other hubs' clients did not go out. */
  lost(): void;
  /** A message went out. */
  sent(): void;
}

const LOST_EVENT = 'pushes:lost';

/**
 * A push this hub failed to send to the others (PostgreSQL refused the NOTIFY, or no connection
 * could be had) is gone: nothing stores it. Once a message goes out again, this hub tells the
 * others so, and each has its clients sync again, which finds what the lost pushes announced.
 * Told at most once per run of failures; if telling fails too, the next message that goes out
 * tells it (the adapter's heartbeat makes one at least every 5 s).
 */
export function tellPeersOfLostPushes(io: Server, log: Logger, mayHaveMissed: (why: string) => void): PublishOutcomes {
  io.on(LOST_EVENT, () => {
    log.info('another hub could not send what it committed for a while; clients here sync again');
    mayHaveMissed('another hub could not send what it committed for a while');
  });
  let owed = false;
  return {
    lost() {
      if (!owed) log.warn('a cross-hub message could not be sent; the other hubs will have their clients sync again once sending works');
      owed = true;
    },
    sent() {
      if (!owed) return;
      owed = false;
      log.info('cross-hub messages go out again; telling the other hubs to have their clients sync');
      io.serverSideEmit(LOST_EVENT);
    },
  };
}
