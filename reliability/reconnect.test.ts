import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient, type ConnectionState, type GreenlightRequest, type SyncResult } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import { TcpProxy } from '../server/test-support/tcp-proxy.js';
import { eventually } from './support.js';

/**
 * What an app keeps: every request it heard of by id, replaced wholesale by each sync, and moved
 * forward by events only when they carry a higher version. Its inbox is what is still pending.
 */
class AppState {
  readonly requests = new Map<string, GreenlightRequest>();
  readonly createdNotifications = new Map<string, number>();
  syncs = 0;

  constructor(client: HubClient) {
    client.onSync((result) => {
      this.syncs++;
      this.requests.clear();
      for (const request of [...result.inbox, ...result.mine]) this.keep(request);
    });
    client.on('request:created', (request) => {
      this.createdNotifications.set(request.id, (this.createdNotifications.get(request.id) ?? 0) + 1);
      this.keep(request);
    });
    client.on('request:updated', (request) => this.keep(request));
    client.on('request:escalated', ({ request }) => this.keep(request));
  }

  private keep(request: GreenlightRequest): void {
    const known = this.requests.get(request.id);
    if (!known || request.version > known.version) this.requests.set(request.id, request);
  }

  inbox(): { id: string; version: number; status: string }[] {
    return [...this.requests.values()].filter((request) => request.status === 'pending').map(summary).sort(byId);
  }
}

const summary = (request: GreenlightRequest) => ({ id: request.id, version: request.version, status: request.status });
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    minApprovals: 1
`;

// A short heartbeat, so "longer than the ping timeout" takes a second rather than 45.
const PING_INTERVAL_MS = 300;
const PING_TIMEOUT_MS = 300;

describe('an approver whose network drops while requests arrive and are decided', () => {
  const hub = new TestHub('sqlite', { policy: POLICY, pingIntervalMs: PING_INTERVAL_MS, pingTimeoutMs: PING_TIMEOUT_MS });
  let alice: TestUser, bob: TestUser, carol: TestUser;
  let proxy: TcpProxy;
  let client: HubClient;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
    proxy = await new TcpProxy(hub.hub.port).start();
  });
  afterAll(async () => {
    client.close();
    await proxy.close();
    await hub.dispose();
  });

  const submit = async (label: string) => {
    const reply = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: label }));
    expect(reply.status).toBe(201);
    return reply.body;
  };
  const decide = async (id: string, decision: 'approve' | 'deny') => {
    const reply = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${id}/decisions`, carol.token, { decision });
    expect(reply.status).toBe(200);
  };
  const cancel = async (id: string) => expect((await hub.api('POST', `/api/v1/requests/${id}/cancel`, alice.token)).status).toBe(200);
  /** The truth: what a client that has just connected is told. */
  const hubInbox = async () => {
    const fresh = new HubClient({ url: hub.url, token: bob.token, forceNew: true, transports: ['websocket'] }).connect();
    try {
      return (await fresh.waitUntilReady()).inbox.map(summary).sort(byId);
    } finally {
      fresh.close();
    }
  };

  /** The hub's own count of open sockets reaches zero: it dropped the dead link (hubInbox's clients come and go). */
  const eventuallyNoSockets = () =>
    eventually(async () => (/^greenlight_socket_connections 0$/m.test((await hub.api<string>('GET', '/metrics', null)).body) ? true : undefined), { what: 'the hub to drop the dead link', deadline: 10_000 });

  it('resyncs to exactly the hub’s state, with one created notification per request', async () => {
    client = new HubClient({ url: proxy.url, token: bob.token, forceNew: true, transports: ['websocket'], reconnectionDelayMs: 100, reconnectionDelayMaxMs: 300 });
    const app = new AppState(client);
    const created = collect<GreenlightRequest>((listener) => client.on('request:created', listener));
    const updated = collect<GreenlightRequest>((listener) => client.on('request:updated', listener));
    const syncs = collect<SyncResult>((listener) => client.onSync(listener));
    const states = collect<ConnectionState>((listener) => client.onState(listener));
    client.connect();
    await client.waitUntilReady();

    // Connected: news arrives as events.
    const a = [await submit('a1'), await submit('a2'), await submit('a3')];
    for (const request of a) await created.next((r) => r.id === request.id);
    await decide(a[0]!.id, 'approve');
    await updated.next((r) => r.id === a[0]!.id && r.status === 'approved');
    expect(app.inbox()).toEqual(await hubInbox());

    // The link goes dead: the hub still writes events, none arrive.
    proxy.blackhole();
    const deadSince = Date.now();
    const statesBefore = states.items.length;
    const b = [await submit('b1'), await submit('b2'), await submit('b3')];
    await decide(a[1]!.id, 'deny');
    await decide(b[0]!.id, 'approve');

    // Dead for longer than the heartbeat allows: both ends notice by themselves and give up on it.
    await states.next((state) => state === 'reconnecting' && states.items.length > statesBefore, 10_000);
    expect(Date.now() - deadSince).toBeGreaterThanOrEqual(PING_INTERVAL_MS);
    await eventuallyNoSockets();
    // And it stays down: reconnect attempts are refused until the network is back.
    proxy.cut();
    const c = [await submit('c1'), await submit('c2'), await submit('c3')];
    await decide(b[1]!.id, 'approve');
    await decide(c[0]!.id, 'deny');
    await cancel(c[1]!.id);
    // Nothing sent while the link was dead or down got through: only a resync can catch up.
    const heard = created.items.map((r) => r.id);
    for (const request of [...b, ...c]) expect(heard).not.toContain(request.id);

    // Back online: the client reconnects and resyncs on its own.
    const syncsBefore = syncs.items.length;
    proxy.restore();
    await syncs.next(() => syncs.items.length > syncsBefore, 15_000);
    const expected = await hubInbox();
    expect(expected.map((r) => r.id).sort()).toEqual([a[2]!.id, b[2]!.id, c[2]!.id].sort());
    expect(app.inbox()).toEqual(expected);

    // And live events work again after the reconnect.
    const d = await submit('d1');
    await created.next((r) => r.id === d.id);
    await decide(a[2]!.id, 'approve');
    await updated.next((r) => r.id === a[2]!.id && r.status === 'approved');
    expect(app.inbox()).toEqual(await hubInbox());

    const duplicates = [...app.createdNotifications].filter(([, count]) => count > 1);
    expect(duplicates).toEqual([]);
    expect(app.syncs).toBeGreaterThanOrEqual(2);

    const chain = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(chain.body).toMatchObject({ ok: true });
  });
});
