import pg from 'pg';
import { createAdapter } from '@socket.io/postgres-adapter';
import type { Server } from 'socket.io';
import type { Logger } from 'pino';
import { batchingNotifications } from './batched-notify.js';
import { watchCrossHubLosses } from './lost-pushes.js';
import { InFlight } from './in-flight.js';
import { Departures } from './departures.js';
import { withTimeout } from '../with-timeout.js';
import { detached } from '../detached.js';
import { signedAdapter, type Refusal } from './peer-adapter-guard.js';
import { FRESH_MS, PeerSignature } from './peer-signature.js';
import { DatabaseClock, readDatabaseTime } from '../database-clock.js';
import { INTER_HUB_EVENTS } from './hub-server.js';

const WATCH_EVERY_MS = 5_000;
/** How long creating the table for long messages may take before the start fails (another session holds its lock, or the connection stopped answering). */
const CREATE_TABLE_TIMEOUT_MS = 10_000;
/** What the hub logs for each message on the hubs' channel it does not act on. */
const REFUSED: Record<Refusal, string> = {
  unsigned: "ignored a message on the hubs' channel that no hub of this database signed: is every hub started with the same key-encryption key file (and the same version)?",
  replayed: 'ignored a message from another hub heard already: a replay',
  'out of time': "ignored a message from another hub timed over a minute away from now by the database's clock: a replay, or a hub's measure of that clock is off (this hub measures it again)",
  'not for hubs': "ignored a signed message of a kind hubs never act on for each other (a broadcast, a join, a disconnect, or an event hubs don't exchange)",
};
/** How often the hub counts its peers (the adapter drops one silent for 10 s of heartbeats). */
const COUNT_PEERS_EVERY_MS = 1_000;
const LEAVING_EVENT = 'hub:leaving';

/**
 * Cross-hub Socket.IO events through PostgreSQL (LISTEN/NOTIFY; payloads over NOTIFY's 8000-byte
 * limit go through the adapter's attachment table). The adapter re-listens when its connection
 * ends, but it neither handles the connection's `error` event (which would crash the process on a
 * PostgreSQL restart) nor notices a connection that silently died: both are handled here, by
 * watching long-held clients with a periodic query and ending the ones that fail.
 *
 * Cross-hub pushes are not stored: the ways to lose some are watched, and `mayHaveMissed` called so
 * the hub can have its clients sync again (and re-check its sockets' users).
 * - A hub killed between a commit and its push takes the push with it: the change is stored, but
 *   the other hubs' clients never hear of it. Called when the number of hubs drops, unless the hubs
 *   gone said goodbye as they stopped (`leaving()`, once everything they committed was pushed).
 * - While this hub's listening connection is down (the adapter reconnects after 1–3 s), what the
 *   others push goes past it. Called each time it listens again.
 * - A message one hub failed to send, or another failed to read (`lost-pushes.ts`).
 */
export interface ClusterMembership {
  /** This hub's id among the others (its adapter's, new at each start): the id they hear its events from. */
  readonly hubId: string;
  /** Calls `listener` with the id of each hub that left: it closed, or fell silent past the adapter's heartbeat timeout. */
  onPeerLeft(listener: (hubId: string) => void): void;
  /** Calls `listener` each time the count of hubs grows: one started, or one this hub had lost track of is heard again. */
  onPeersJoined(listener: () => void): void;
  /** The database's clock, which what hubs tell each other is timed by; and how far this hub's own is from it. */
  readonly clock: DatabaseClock;
  /** Tells the other hubs this one is leaving with everything it committed pushed: they need not resync for it. */
  leaving(): void;
  close(): Promise<void>;
}

/** The clocks `attachClusterAdapter` reads; tests give others. */
export interface ClusterClocks {
  /** This hub's system clock (tests give one that is off). */
  ownClock?: () => number;
  /** Reads the database's time through the adapter's pool (tests give one that fails or hangs). */
  readDatabaseTime?: (pool: pg.Pool) => Promise<number>;
}

/** `keyEncryptionKey` is what every hub of the database shares, and signs with. */
export async function attachClusterAdapter(
  io: Server,
  databaseUrl: string,
  keyEncryptionKey: Buffer,
  log: Logger,
  mayHaveMissed: (why: string) => void = () => undefined,
  { ownClock = Date.now, readDatabaseTime: readTime = readDatabaseTime }: ClusterClocks = {},
): Promise<ClusterMembership> {
  const held = new Map<pg.PoolClient, number>();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 5_000 });
  let listens = 0;
  let firstListen: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => (firstListen = resolve));
  pool.on('connect', (client) => {
    onListening(client, () => {
      // The first LISTEN is the hub starting; any later one ends a gap.
      if (listens++ === 0) return firstListen();
      log.info('listening for other hubs again; clients here sync again for what crossed meanwhile');
      clock.measureSoon('listening again');
      mayHaveMissed('this hub could not hear the others for a while');
    });
    client.on('error', (error) => log.warn({ err: error }, 'event connection to PostgreSQL failed; reconnecting'));
    // The adapter drops a connection that ended without releasing it; release it here, or the
    // pool would count it as in use forever (and never finish closing).
    client.on('end', () => {
      if (held.has(client)) (client as pg.PoolClient).release(true);
    });
  });
  pool.on('acquire', (client) => held.set(client, Date.now()));
  pool.on('release', (_error, client) => held.delete(client));
  pool.on('error', (error) => log.warn({ err: error }, 'idle PostgreSQL event connection failed'));
  await createAttachmentTable(pool).catch(async (error: unknown) => {
    await withTimeout(pool.end(), 5_000, 'PostgreSQL').catch(() => undefined);
    throw new Error(`could not create the table hubs pass long messages through (socket_io_attachments): ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  const losses = watchCrossHubLosses(io, log, mayHaveMissed);
  const clock = new DatabaseClock(() => readTime(pool), log, ownClock, (byMs) => {
    if (Math.abs(byMs) <= FRESH_MS / 2) return;
    // Off by that much, this hub may have refused what the others sent, and they what it sent.
    log.warn({ correctedBySeconds: Math.round(byMs / 1000) }, "this hub's measure of the database's clock was off; clients on every hub sync again for what hubs refused meanwhile");
    mayHaveMissed("this hub's measure of the database's clock was off");
    losses.sendingLost();
  });
  // Measured before anything is signed: the adapter's first heartbeat goes out as it is made. If the
  // database's time cannot be read within seconds, the hub starts by its own clock and keeps trying.
  await clock.start();
  const signature = new PeerSignature(keyEncryptionKey, () => clock.now());
  const queries = new InFlight();
  const adapter = createAdapter(batchingNotifications(pool, { outcomes: losses.queries, inFlight: queries }), { errorHandler: (error: Error) => losses.adapterError(error) });
  const peerLeftListeners: ((hubId: string) => void)[] = [];
  const peersJoinedListeners: (() => void)[] = [];
  io.adapter(
    signedAdapter(
      adapter,
      signature,
      new Set(INTER_HUB_EVENTS),
      (why, type) => {
        log.warn({ why, type }, REFUSED[why]);
        if (why === 'out of time') clock.measureSoon('a message from another hub was out of time');
      },
      (uid) => peerLeftListeners.forEach((listener) => listener(uid)),
    ),
  );
  // The adapter's `uid` is what it signs and sends as the sender of every message; its type keeps it protected.
  const hubId = (io.of('/').adapter as unknown as { uid: string }).uid;

  const watchdog = setInterval(() => {
    for (const [client, since] of held) {
      if (Date.now() - since < WATCH_EVERY_MS) continue;
      const timeout = setTimeout(() => detached(log, 'ending a silent cross-hub connection', () => client.end()), 3_000);
      client.query('select 1').then(
        () => clearTimeout(timeout),
        () => {
          clearTimeout(timeout);
          // Ending it makes the adapter connect and LISTEN again.
          void client.end().catch(() => undefined);
        },
      );
    }
  }, WATCH_EVERY_MS);
  watchdog.unref();

  const departures = new Departures();
  io.on(LEAVING_EVENT, () => departures.saidGoodbye());
  let hubs = 1;
  const peerCount = setInterval(() => {
    io.of('/')
      .adapter.serverCount()
      .then((now) => {
        if (now < hubs && departures.unannounced(hubs - now) > 0) {
          log.info({ hubs: now, before: hubs }, 'a hub left the cluster; clients here sync again in case it died before announcing what it committed');
          mayHaveMissed('a hub left the cluster');
        } else if (now < hubs) log.info({ hubs: now, before: hubs }, 'a hub left the cluster after handing over what it committed');
        else if (now > hubs) log.info({ hubs: now, before: hubs }, 'a hub joined the cluster');
        const joined = now > hubs;
        hubs = now;
        if (joined) peersJoinedListeners.forEach((listener) => listener());
      })
      .catch((error: unknown) => log.warn({ err: error }, 'could not count the hubs in the cluster'));
  }, COUNT_PEERS_EVERY_MS);
  peerCount.unref();

  // Attached once it listens: the hub then hears the others from its first client on, and no connection
  // is still being set up if the start fails after this (the adapter's close cannot stop one under way,
  // which would then be held open for good).
  await withTimeout(listening, 5_000, 'PostgreSQL').catch(() => log.warn('not listening for the other hubs yet; starting anyway, and still trying'));

  return {
    hubId,
    clock,
    onPeerLeft: (listener) => peerLeftListeners.push(listener),
    onPeersJoined: (listener) => peersJoinedListeners.push(listener),
    leaving: () => io.serverSideEmit(LEAVING_EVENT),
    close: async () => {
      clearInterval(watchdog);
      clock.close();
      clearInterval(peerCount);
      // What was published last (the hub's final pushes, its goodbye) goes out before the pool ends.
      await withTimeout(queries.settled(), 5_000, 'PostgreSQL').catch(() => undefined);
      await withTimeout(pool.end(), 5_000, 'PostgreSQL').catch(() => undefined);
    },
  };
}

/** Calls `listening` each time a LISTEN on this connection succeeds (the adapter's own calls; pg has no event for it). */
function onListening(client: pg.PoolClient, listening: () => void): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (typeof args[0] === 'string' && args[0].startsWith('LISTEN ') && result instanceof Promise) result.then(listening, () => undefined);
    return result;
  };
}

/**
 * "if not exists" is not safe against a concurrent create (the loser can fail on the table, its
 * row type or its sequence, each with its own error code), so hubs starting together on a fresh
 * database take turns under a transaction-scoped advisory lock.
 */
async function createAttachmentTable(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  let created = false;
  try {
    await withTimeout(createUnderLock(client), CREATE_TABLE_TIMEOUT_MS, 'PostgreSQL');
    created = true;
  } finally {
    // Closed rather than given back when it failed: a query still waiting (for the lock, or on a
    // connection gone silent) would keep it busy, and the pool from ending. Closing rolls back.
    client.release(!created);
  }
}

async function createUnderLock(client: pg.PoolClient): Promise<void> {
  await client.query('begin');
  await client.query(`select pg_advisory_xact_lock(hashtext('greenlight.socket_io_attachments'))`);
  await client.query(`create table if not exists socket_io_attachments (
    id bigserial unique,
    created_at timestamptz default now(),
    payload bytea
  )`);
  await client.query('commit');
}
