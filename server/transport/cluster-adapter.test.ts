import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Client as PgClient } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Server } from 'socket.io';
import pino from 'pino';
import { attachClusterAdapter } from './cluster-adapter.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';
import { eventually } from '../test-support/eventually.js';
import { TcpProxy } from '../test-support/tcp-proxy.js';
import { capturedLog } from '../test-support/captured-log.js';
import { readDatabaseTime } from '../database-clock.js';

const pg = await postgresAvailability();
const HUBS_STARTING_TOGETHER = 6;
const FRESH_DATABASES = 4;
/** Every hub of one database signs with a key derived from the same key-encryption key. */
const KEK = randomBytes(32);
/** One of the hubs' own events, which the adapter carries; these tests only check that it crosses. */
const HELLO = 'user:changed';
const FIVE_MINUTES = 300_000;

describe.skipIf(!pg.ok)(`the cross-hub event table${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const dropped: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const drop of dropped) await drop();
  });

  it('lets hubs that start together on a fresh database all attach, and hear each other', async () => {
    for (let round = 0; round < FRESH_DATABASES; round += 1) {
      const database = await createTestDatabase();
      dropped.push(database.drop);
      const servers = Array.from({ length: HUBS_STARTING_TOGETHER }, () => new Server(createServer()));
      const heard = servers.map(() => 0);
      servers.forEach((io, index) => io.on(HELLO, () => (heard[index] = (heard[index] ?? 0) + 1)));
      const attached = await Promise.allSettled(servers.map((io) => attachClusterAdapter(io, database.url, KEK, pino({ level: 'silent' }))));
      const refusals = attached.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      if (refusals.length === 0) {
        // Each hub listens once its event connection is up: until then a hello may go unheard.
        await eventually(
          () => {
            servers[0]!.serverSideEmit(HELLO);
            return heard.slice(1).every((count) => count > 0);
          },
          { what: 'every other hub to hear the first one' },
        );
      }
      // As the hub does: sockets first (the adapter gives back its event connection), then the pool.
      for (const io of servers) await io.close();
      for (const result of attached) if (result.status === 'fulfilled') await result.value.close();
      expect(refusals).toEqual([]);
    }
  });

  it("starts on its own clock when it cannot read the database's, says so, and measures it once it can", async () => {
    const database = await createTestDatabase();
    dropped.push(database.drop);
    const log = capturedLog<{ level: number; msg: string; err?: { message: string } }>();
    const io = new Server(createServer());
    const missed: string[] = [];
    let answers = false;
    const membership = await attachClusterAdapter(io, database.url, KEK, log.logger, (why) => missed.push(why), {
      ownClock: () => Date.now() + FIVE_MINUTES,
      // The database answers the hub's other queries; this one is refused (a restricted role, a proxy in the way).
      readDatabaseTime: (pool) => (answers ? readDatabaseTime(pool) : Promise.reject(new Error('permission denied for function clock_timestamp'))),
    });
    try {
      expect(membership.clock.ownClockAheadMs()).toBeNull();
      const warning = log.warnings().find((line) => line.msg.includes("could not read the database's clock"));
      expect(warning?.msg).toContain("this hub's own clock");
      expect(warning?.err?.message).toBe('permission denied for function clock_timestamp');

      answers = true;
      const aheadMs = await eventually(() => membership.clock.ownClockAheadMs() ?? false, { what: "the hub to measure the database's clock once it can" });
      expect(Math.abs(aheadMs - FIVE_MINUTES)).toBeLessThan(1_000);
      // Until then it timed what it sent by its own clock, 5 minutes off: the others refused it.
      expect(missed).toEqual(["this hub's measure of the database's clock was off"]);
    } finally {
      await io.close();
      await membership.close();
    }
  });

  it("starts within seconds when the connection it reads the database's clock on stops answering, and lets that connection go", async () => {
    const database = await createTestDatabase();
    dropped.push(database.drop);
    const proxy = await new TcpProxy(Number(new URL(database.url).port || 5432), new URL(database.url).hostname).start();
    dropped.push(() => proxy.close());
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const log = capturedLog();
    const io = new Server(createServer());
    let readings = 0;
    const startedAt = performance.now();
    const membership = await attachClusterAdapter(io, viaProxy.toString(), KEK, log.logger, undefined, {
      readDatabaseTime: (pool) => {
        // The connection the pool holds (it created the event table on it) goes half-open: no answer, no error.
        if (readings++ === 0) proxy.strandOpenConnections();
        return readDatabaseTime(pool);
      },
    });
    try {
      // The start waits at most 5 s for the clock, and 5 s to listen for the other hubs.
      expect(performance.now() - startedAt).toBeLessThan(12_000);
      expect(log.warnings().map((line) => line.msg)).toContainEqual(expect.stringContaining("could not read the database's clock"));
      await eventually(() => membership.clock.ownClockAheadMs() !== null, { what: "the hub to measure the database's clock on another connection" });
      // The silent connection was closed, not left to hold one of the pool's few connections for good.
      await eventually(() => proxy.connections === proxy.liveConnections, { what: 'the silent connection to be closed' });
    } finally {
      await io.close();
      await membership.close();
    }
    await eventually(() => proxy.connections === 0, { what: "the adapter's connections to close" });
  });

  it('fails its start within seconds, with the reason, when it cannot create the event table, and keeps no connection', async () => {
    const database = await createTestDatabase();
    dropped.push(database.drop);
    // Another session holds the lock hubs take turns under to create the table, and does not let go.
    const holder = new PgClient({ connectionString: database.url });
    await holder.connect();
    try {
      await holder.query(`select pg_advisory_lock(hashtext('greenlight.socket_io_attachments'))`);
      const io = new Server(createServer());
      await expect(attachClusterAdapter(io, database.url, KEK, pino({ level: 'silent' }))).rejects.toThrow(
        'could not create the table hubs pass long messages through (socket_io_attachments): PostgreSQL did not answer within 10 s',
      );
      await io.close();
      // The waiting session goes once the lock is free; a connection the hub kept would stay.
      await holder.query(`select pg_advisory_unlock_all()`);
      const others = async () => (await holder.query<{ count: string }>('select count(*) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows[0]?.count;
      await eventually(async () => (await others()) === '0', { what: "the hub's connections to end" });
    } finally {
      await holder.end();
    }
  });

  /** A sending and a receiving hub on a fresh database, one of them through a proxy to PostgreSQL; each ready to hear the other. */
  async function twoHubs(throughProxy: 'sender' | 'receiver', logs: { sender?: pino.Logger; receiver?: pino.Logger } = {}, receiverClock: () => number = Date.now) {
    const database = await createTestDatabase();
    dropped.push(database.drop);
    const proxy = await new TcpProxy(Number(new URL(database.url).port || 5432), new URL(database.url).hostname).start();
    dropped.push(() => proxy.close());
    const viaProxy = new URL(database.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const urlOf = (hub: 'sender' | 'receiver') => (hub === throughProxy ? viaProxy.toString() : database.url);
    const sender = new Server(createServer());
    const receiver = new Server(createServer());
    const missed = { bySender: [] as string[], byReceiver: [] as string[] };
    const senderMembership = await attachClusterAdapter(sender, urlOf('sender'), KEK, logs.sender ?? pino({ level: 'silent' }), (why) => missed.bySender.push(why));
    const receiverMembership = await attachClusterAdapter(receiver, urlOf('receiver'), KEK, logs.receiver ?? pino({ level: 'silent' }), (why) => missed.byReceiver.push(why), { ownClock: receiverClock });
    const heard: unknown[] = [];
    receiver.on(HELLO, (what: unknown) => heard.push(what));
    const close = async () => {
      proxy.restore();
      await sender.close();
      await receiver.close();
      await senderMembership.close();
      await receiverMembership.close();
    };
    await eventually(
      () => {
        sender.serverSideEmit(HELLO, 'before');
        return heard.includes('before');
      },
      { what: 'the receiving hub to hear the sender' },
    ).catch(async (error: unknown) => {
      await close();
      throw error;
    });
    return { proxy, sender, senderMembership, missed, heard, close };
  }

  it("has the other hubs' clients sync again once a hub that could not send its pushes can send again", async () => {
    const senderLog = capturedLog();
    const { proxy, sender, missed, heard, close } = await twoHubs('sender', { sender: senderLog.logger });
    try {
      expect(missed.byReceiver).toEqual([]);

      // PostgreSQL refuses the sender new connections and drops its idle ones; it still listens.
      proxy.keepOnlyListeners();
      sender.serverSideEmit(HELLO, 'lost');
      await eventually(() => senderLog.warnings().some((line) => line.msg.includes('could not be sent')), { what: 'the sender to notice its push did not go out' });
      proxy.restore();

      await eventually(
        () => {
          sender.serverSideEmit(HELLO, 'after');
          return heard.includes('after') && missed.byReceiver.length > 0;
        },
        { what: 'the receiving hub to be told pushes were lost' },
      );
      expect(heard).not.toContain('lost');
      expect(missed.byReceiver).toContain('another hub could not send what it committed for a while');
      // The sender heard the others all along: its own clients have nothing to catch up on.
      expect(missed.bySender).toEqual([]);
    } finally {
      await close();
    }
  });

  it("has a hub's clients sync again when it could not read a message another hub sent", async () => {
    const { proxy, sender, missed, heard, close } = await twoHubs('receiver');
    try {
      // The receiver still listens, but can't open a connection to fetch a long message's stored body.
      proxy.keepOnlyListeners();
      sender.serverSideEmit(HELLO, 'x'.repeat(10_000));
      await eventually(() => missed.byReceiver.length > 0, { what: 'the receiving hub to notice it missed a message' });
      expect(missed.byReceiver).toEqual(['a message from another hub could not be read']);
      expect(heard.every((what) => what === 'before')).toBe(true);
    } finally {
      await close();
    }
  });

  it("a hub that stops after saying goodbye leaves the other hubs' clients as they are", async () => {
    const receiverLog = capturedLog<{ level: number; msg: string; hubs?: number }>('info');
    const { sender, senderMembership, missed, close } = await twoHubs('sender', { receiver: receiverLog.logger });
    try {
      await eventually(() => receiverLog.lines().some((line) => line.msg === 'a hub joined the cluster'), { what: 'the receiving hub to count the sender' });
      // As a stopping hub does once every event it took is answered and pushed.
      senderMembership.leaving();
      await sender.close();
      await senderMembership.close();
      await eventually(() => receiverLog.lines().some((line) => line.msg.includes('a hub left the cluster')), { what: 'the receiving hub to count one hub fewer' });
      expect(receiverLog.lines().filter((line) => line.msg.includes('a hub left the cluster')).map((line) => line.msg)).toEqual(['a hub left the cluster after handing over what it committed']);
      expect(missed.byReceiver).toEqual([]);
    } finally {
      await close();
    }
  });

  it("hears the others again within seconds when its own clock jumps, and has clients on every hub sync for what was refused meanwhile", async () => {
    const receiverLog = capturedLog();
    let jumpMs = 0;
    const { sender, missed, heard, close } = await twoHubs('sender', { receiver: receiverLog.logger }, () => Date.now() + jumpMs);
    try {
      // Stepped 5 minutes ahead between two measurements (a virtual machine resumed, NTP setting it):
      // until it measures again, it reads the database's clock 5 minutes ahead too.
      jumpMs = 300_000;
      await eventually(
        () => {
          sender.serverSideEmit(HELLO, 'after the jump');
          return heard.includes('after the jump');
        },
        { what: 'the receiving hub to hear the sender again', deadline: 20_000 },
      );
      expect(receiverLog.warnings().map((line) => line.msg)).toEqual(
        expect.arrayContaining([expect.stringContaining('timed over a minute away from now'), expect.stringContaining("measure of the database's clock was off")]),
      );
      expect(missed.byReceiver).toEqual(["this hub's measure of the database's clock was off"]);
      // What the receiver sent meanwhile went out timed 5 minutes ahead: the sender is told to have its clients sync.
      await eventually(() => missed.bySender.length > 0, { what: 'the sending hub to be told pushes were lost' });
      expect(missed.bySender).toEqual(['another hub could not send what it committed for a while']);
    } finally {
      await close();
    }
  });
});
