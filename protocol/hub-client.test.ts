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

describe('HubClient sending more than the hub takes, against a bare Socket.IO server standing in for a hub with a lower limit (another version, or a proxy)', () => {
  it.each(['websocket', 'polling'] as const)('over %s: the call too large is refused as PAYLOAD_TOO_LARGE, one dropped beside it as TIMEOUT, and the client reconnects', async (transport) => {
    const http = createServer();
    const io = new Server(http, { maxHttpBufferSize: 100_000 });
    let syncs = 0;
    let smallArrived: () => void = () => undefined;
    const smallInFlight = new Promise<void>((resolve) => (smallArrived = resolve));
    io.on('connection', (socket) => {
      socket.on('requests:sync', (_input, ack) => {
        syncs += 1;
        ack({ data: syncResult });
      });
      // Held unanswered: in flight when the connection closes.
      socket.on('request:get', () => smallArrived());
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const hub = new HubClient({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, token: 'glt_x', forceNew: true, transports: [transport], reconnectionDelayMs: 50, reconnectionDelayMaxMs: 100 });
    cleanups.push(() => {
      hub.close();
      io.close();
      http.close();
    });
    hub.connect();
    await hub.waitUntilReady(5_000);

    const resynced = new Promise<void>((resolve) => hub.onSync(() => resolve()));
    const held = hub.get('req_1').catch((error: unknown) => error);
    // The small call reaches the hub first, so it is in flight, not queued, when the large one closes the connection.
    await smallInFlight;
    const large = hub.submit({ action: 'deploy', resource: 'api', environment: 'prod', reason: 'x', context: { diff: 'x'.repeat(200_000) } });
    await expect(large).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('0.2 MB') });
    expect(await held).toMatchObject({ code: 'TIMEOUT' });
    await resynced;
    expect(hub.state).toBe('connected');
    expect(syncs).toBe(2);
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
