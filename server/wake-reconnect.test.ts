import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HubClient, type SyncResult } from '../protocol/index.js';
import { eventually } from './test-support/eventually.js';
import { collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { TcpProxy } from './test-support/tcp-proxy.js';

/**
 * A laptop that slept: its connection died without either end knowing (the heartbeat takes up to
 * 45 s to tell), or its client is waiting out a long retry delay. On wake the app asks the client to
 * reconnect at once. The retry delay here is a minute, so only that call can bring it back within
 * the ten seconds each test waits.
 */
describe('reconnecting at once when the machine wakes or its network comes back', () => {
  const hub = new TestHub('sqlite');
  let alice: TestUser;
  let bob: TestUser;
  let proxy: TcpProxy;
  let client: HubClient;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['approvers']);
  });
  afterEach(async () => {
    client?.close();
    await proxy?.close();
  });
  afterAll(() => hub.dispose());

  async function connectThroughProxy(): Promise<ReturnType<typeof collect<SyncResult>>> {
    proxy = await new TcpProxy(Number(new URL(hub.url).port)).start();
    client = new HubClient({ url: proxy.url, token: bob.token, forceNew: true, transports: ['websocket'], reconnectionDelayMs: 60_000, reconnectionDelayMaxMs: 60_000 });
    const syncs = collect<SyncResult>((listener) => client.onSync(listener));
    client.connect();
    await client.waitUntilReady();
    return syncs;
  }

  const submit = async (reason: string) => (await hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ reason }))).body.id;

  it('replaces a connection that died unnoticed during sleep, and brings in what arrived meanwhile', async () => {
    const syncs = await connectThroughProxy();
    proxy.strandOpenConnections();
    const id = await submit('arrived while the laptop slept');
    // The client has not noticed: as far as it knows, it is still live.
    expect(client.state).toBe('connected');

    client.reconnectNow();

    const sync = await syncs.next((result) => result.inbox.some((request) => request.id === id), 10_000);
    expect(sync.inbox.map((request) => request.id)).toContain(id);
    expect(client.state).toBe('connected');
  });

  it('tells a call cut short by the new connection that its answer was lost, not that the hub was slow', async () => {
    await connectThroughProxy();
    proxy.strandOpenConnections();
    const unanswered = client.sync();

    client.reconnectNow();

    await expect(unanswered).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: 'The connection to the hub dropped before it answered requests:sync, so it may not have been done; the next sync shows whether it was',
    });
  });

  it('keeps one connection however often it is asked', async () => {
    const syncs = await connectThroughProxy();
    proxy.strandOpenConnections();
    const id = await submit('arrived before two wake-ups');

    client.reconnectNow();
    client.reconnectNow();

    await syncs.next((result) => result.inbox.some((request) => request.id === id), 10_000);
    // The stranded connection lingers until its close handshake times out, as a dead link does.
    await eventually(() => proxy.liveConnections === 1, { what: 'the abandoned attempt to close', deadline: 10_000 });
    expect(client.state).toBe('connected');
  });

  it('retries at once instead of waiting out its retry delay', async () => {
    const syncs = await connectThroughProxy();
    proxy.cut();
    await eventually(() => client.state === 'reconnecting', { what: 'the client to notice the cut', deadline: 10_000 });
    proxy.restore();
    const id = await submit('arrived while the network was down');

    client.reconnectNow();

    await syncs.next((result) => result.inbox.some((request) => request.id === id), 10_000);
    expect(client.state).toBe('connected');
  });

  it('leaves a closed client closed', async () => {
    await connectThroughProxy();
    client.close();
    client.reconnectNow();
    expect(client.state).toBe('closed');
  });
});
