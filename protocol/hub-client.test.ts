import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { HubClient } from './hub-client.js';
import type { SyncResult } from './events.js';
import { LIMITS } from './limits.js';
import { requestFixture } from './request-fixture.js';

const syncResult: SyncResult = {
  me: { id: 'u1', name: 'bob', roles: ['approver'], groups: ['sre'], email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: '2026-01-01T00:00:00Z' },
  inbox: [],
  mine: [],
  offers: [],
  serverTime: '2026-01-01T00:00:00Z',
};

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

async function startHub(token: string): Promise<string> {
  const http = createServer();
  const io = new Server(http);
  io.use((socket, next) => {
    if (socket.handshake.auth.token === token) return next();
    next(Object.assign(new Error('bad token'), { data: { code: 'UNAUTHENTICATED', message: 'bad token' } }));
  });
  io.on('connection', (socket) => socket.on('requests:sync', (_input, ack) => ack({ data: syncResult })));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    io.close();
    http.close();
  });
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

/** A bare Socket.IO server answering every sync with `syncResult`; `beforeAnswer` runs first, with the sync's count. */
async function syncingStandIn(beforeAnswer: (socket: Socket, count: number) => void = () => undefined): Promise<{ url: string; io: Server; syncs: () => number }> {
  const http = createServer();
  const io = new Server(http);
  let syncs = 0;
  io.on('connection', (socket) =>
    socket.on('requests:sync', (_input, ack) => {
      syncs += 1;
      beforeAnswer(socket, syncs);
      ack({ data: syncResult });
    }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    io.close();
    http.close();
  });
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, io, syncs: () => syncs };
}

/** A bare Socket.IO server that takes the connection and never answers its sync; `asked` resolves once the sync was asked for. */
async function silentStandIn(): Promise<{ url: string; asked: Promise<void> }> {
  const http = createServer();
  const io = new Server(http);
  let syncAsked: () => void = () => undefined;
  const asked = new Promise<void>((resolve) => (syncAsked = resolve));
  io.on('connection', (socket) => socket.on('requests:sync', () => syncAsked()));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    io.close();
    http.close();
  });
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, asked };
}

function client(url: string, token: string): HubClient {
  const hub = new HubClient({ url, token, forceNew: true, transports: ['websocket'] });
  cleanups.push(() => hub.close());
  return hub;
}

describe('HubClient.waitUntilReady', () => {
  it('resolves at once for a client that is already connected and synced', async () => {
    const hub = client(await startHub('glt_ok'), 'glt_ok').connect();
    await hub.waitUntilReady(5_000);
    const started = Date.now();
    await expect(hub.waitUntilReady(5_000)).resolves.toMatchObject({ me: { name: 'bob' } });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rejects at once, with the hub\'s code, for a client that was already refused', async () => {
    const hub = client(await startHub('glt_ok'), 'glt_wrong').connect();
    await expect(hub.waitUntilReady(5_000)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const started = Date.now();
    await expect(hub.waitUntilReady(5_000)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('rejects with CANCELLED when the client is closed while it waits (a stand-in hub that never answers the sync), instead of waiting out its timeout', async () => {
    const { url, asked } = await silentStandIn();
    const hub = client(url, 'glt_x').connect();
    // An hour: only the close can end this wait within the test.
    const waiting = hub.waitUntilReady(3_600_000).then(
      () => null,
      (error: unknown) => error,
    );
    await asked;
    hub.close();
    expect(await waiting).toMatchObject({ code: 'CANCELLED', message: `The connection to the hub at ${url} was closed before it was ready.` });
  });

  it('rejects at once with CANCELLED for a client already closed', async () => {
    const hub = client(await startHub('glt_ok'), 'glt_ok');
    hub.close();
    await expect(hub.waitUntilReady(3_600_000)).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('HubClient refused for a passing reason, against a bare Socket.IO server standing in for the hub', () => {
  it('tries again by itself when the hub refused a handshake because its database was away, and connects once it is back', async () => {
    const http = createServer();
    const io = new Server(http);
    let refuseNext = 0;
    io.use((_socket, next) => {
      if (refuseNext === 0) return next();
      refuseNext -= 1;
      next(Object.assign(new Error('hub unavailable'), { data: { code: 'UNAVAILABLE', message: 'the database is unreachable' } }));
    });
    io.on('connection', (socket) => socket.on('requests:sync', (_input, ack) => ack({ data: syncResult })));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const hub = new HubClient({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, token: 'glt_x', forceNew: true, transports: ['websocket'], reconnectionDelayMs: 50, reconnectionDelayMaxMs: 100 });
    cleanups.push(() => {
      hub.close();
      io.close();
      http.close();
    });
    hub.connect();
    await hub.waitUntilReady(5_000);

    // The connection drops while the hub's database is away for two handshakes.
    refuseNext = 2;
    const states: string[] = [];
    hub.onState((state) => states.push(state));
    for (const socket of io.of('/').sockets.values()) socket.conn.close();
    await new Promise<void>((resolve) => hub.onSync(() => resolve()));
    expect(hub.state).toBe('connected');
    expect(refuseNext).toBe(0);
    expect(states).toContain('reconnecting');
  });
});

describe('HubClient size check', () => {
  it('counts UTF-8 bytes, so a non-Latin diff under the character limit is still refused locally', async () => {
    const hub = client(await startHub('glt_ok'), 'glt_ok');
    const diff = 'ж'.repeat(Math.ceil(LIMITS.bodyBytes / 2) + 10); // fewer characters than the limit, more bytes
    await expect(hub.submit({ action: 'deploy', resource: 'api', environment: 'prod', reason: 'x', context: { diff } })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });
});

const DIFF_OVER_100_KB = 'x'.repeat(200_000);
const submitWith = (diff: string) => ({ action: 'deploy', resource: 'api', environment: 'prod', reason: 'x', context: { diff } });

/**
 * A bare Socket.IO server standing in for a hub that takes messages up to `takes` bytes: it answers
 * `request:submit` and `request:release` at once and holds `request:get` unanswered until `answerHeld`.
 * `says`, when given, is what its handshake says it takes instead: more, as for a hub behind a proxy
 * that lets through long-polling posts up to `takes` bytes only.
 */
async function sizedStandIn(takes: number, says?: number) {
  const http = createServer();
  const io = new Server(http, { maxHttpBufferSize: takes });
  if (says !== undefined) {
    io.engine.opts.maxHttpBufferSize = says;
    io.engine.on('connection', (conn: { transport: { name: string; maxHttpBufferSize?: number } }) => {
      if (conn.transport.name === 'polling') conn.transport.maxHttpBufferSize = takes;
    });
  }
  const arrived: string[] = [];
  let syncs = 0;
  let held: ((answer: unknown) => void) | undefined;
  let getArrived: () => void = () => undefined;
  const getInFlight = new Promise<void>((resolve) => (getArrived = resolve));
  io.on('connection', (socket) => {
    socket.on('requests:sync', (_input, ack) => {
      syncs += 1;
      ack({ data: syncResult });
    });
    socket.on('request:get', (_input, ack) => {
      arrived.push('request:get');
      held = ack;
      getArrived();
    });
    for (const event of ['request:submit', 'request:release'] as const) {
      socket.on(event, (_input, ack) => {
        arrived.push(event);
        ack({ data: requestFixture() });
      });
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => {
    io.close();
    http.close();
  });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return { url, arrived, getInFlight, syncs: () => syncs, answerHeld: () => held?.({ data: requestFixture() }) };
}

async function sizedClient(url: string, transport: 'websocket' | 'polling'): Promise<HubClient> {
  const hub = new HubClient({ url, token: 'glt_x', forceNew: true, transports: [transport], reconnectionDelayMs: 50, reconnectionDelayMaxMs: 100 });
  cleanups.push(() => hub.close());
  hub.connect();
  await hub.waitUntilReady(5_000);
  return hub;
}

describe('HubClient sending more than a hub takes, against a bare Socket.IO server standing in for a hub with a lower limit', () => {
  it.each(['websocket', 'polling'] as const)('over %s: a hub that says it takes less has the call too large refused before it is sent, and the call beside it is answered as usual', async (transport) => {
    const standIn = await sizedStandIn(100_000);
    const hub = await sizedClient(standIn.url, transport);
    const held = hub.get('req_1');
    await standIn.getInFlight;

    await expect(hub.submit(submitWith(DIFF_OVER_100_KB))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/0\.2 MB; the hub accepts at most 0\.1 MB, so nothing was sent/) });
    standIn.answerHeld();
    await expect(held).resolves.toMatchObject({ id: requestFixture().id });
    // A call after it goes through on the same connection: the hub never saw the large one.
    await expect(hub.submit(submitWith('small'))).resolves.toMatchObject({ id: requestFixture().id });
    expect(standIn.arrived).toEqual(['request:get', 'request:submit']);
    expect(standIn.syncs()).toBe(1);
  });

  // A proxy's limit is on the bodies it relays: long polling's posts (WebSocket frames pass through).
  it.each(['polling'] as const)('over %s: behind a proxy that takes less than the hub says, the one call on the wire when it closes the connection is the one refused as PAYLOAD_TOO_LARGE, and the client reconnects', async (transport) => {
    const standIn = await sizedStandIn(100_000, 1_000_000);
    const hub = await sizedClient(standIn.url, transport);
    const resynced = new Promise<void>((resolve) => hub.onSync(() => resolve()));
    await expect(hub.submit(submitWith(DIFF_OVER_100_KB))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('closed the connection rather than take this 0.2 MB message') });
    await resynced;
    expect(hub.state).toBe('connected');
    expect(standIn.arrived).toEqual([]);
  });

  it.each(['polling'] as const)('over %s: behind such a proxy, with another call in flight when it closes the connection, neither is blamed: each is told it may not have been done, and why the connection closed', async (transport) => {
    const standIn = await sizedStandIn(100_000, 1_000_000);
    const hub = await sizedClient(standIn.url, transport);
    const resynced = new Promise<void>((resolve) => hub.onSync(() => resolve()));
    const held = hub.get('req_1').catch((error: unknown) => error);
    await standIn.getInFlight;
    const large = await hub.submit(submitWith(DIFF_OVER_100_KB)).catch((error: unknown) => error);

    for (const [dropped, size] of [[await held, '0.0 MB'], [large, '0.2 MB']] as const) {
      expect(dropped).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining(`this one is ${size}) more than the hub, or a proxy in front of it, takes; it may not have been done`) });
    }
    await resynced;
    expect(hub.state).toBe('connected');
  });

  it('over polling: two calls a proxy refuses together, each small enough alone, are neither called too large', async () => {
    const standIn = await sizedStandIn(100_000, 1_000_000);
    const hub = await sizedClient(standIn.url, 'polling');
    // The first goes out alone; the two made while it is posted go out together in the next post.
    const first = hub.release('req_1');
    const together = [hub.submit(submitWith('x'.repeat(60_000))), hub.submit(submitWith('x'.repeat(50_000)))].map((call) => call.catch((error: unknown) => error));
    await expect(first).resolves.toMatchObject({ id: requestFixture().id });
    expect(await Promise.all(together)).toEqual([expect.objectContaining({ code: 'TIMEOUT' }), expect.objectContaining({ code: 'TIMEOUT' })]);
    expect(standIn.arrived).toEqual(['request:release']);
  });
});

describe('HubClient.sync asked for by the app, against a bare Socket.IO server standing in for the hub', () => {
  it('holds an event pushed while the sync is read and delivers it after the answer, so the answer never undoes it', async () => {
    const { url } = await syncingStandIn((socket, count) => {
      // The hub read its answer, then a request arrived and was pushed before the answer went out.
      if (count === 2) socket.emit('request:created', { ...requestFixture(), id: 'req_new' });
    });
    const hub = client(url, 'glt_ok').connect();
    await hub.waitUntilReady(5_000);
    const seen: string[] = [];
    hub.onSync((result) => seen.push(`sync with ${result.inbox.length} waiting`));
    hub.on('request:created', (request) => seen.push(`created ${request.id}`));

    await hub.sync();
    expect(seen).toEqual(['sync with 0 waiting', 'created req_new']);
  });
});

describe('HubClient pushed events', () => {
  it('acts only on pushes that match the contract; a malformed one is dropped and a full sync follows', async () => {
    const { url, io, syncs } = await syncingStandIn();
    const hub = client(url, 'glt_ok').connect();
    await hub.waitUntilReady(5_000);
    const seen: unknown[] = [];
    hub.on('request:created', (request) => seen.push(request));
    const resynced = new Promise<void>((resolve) => hub.onSync(() => resolve()));

    io.emit('request:created', { id: 'req_1', status: 'approved-by-nobody' });
    await resynced;
    expect(seen).toEqual([]);
    expect(hub.rejectedPushes).toBe(1);
    expect(syncs()).toBe(2);
  });
});
