import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient, type EscalatedPayload, type GreenlightRequest, type SyncResult } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest } from './test-support/hub-fixture.js';
import { HubProcess } from './test-support/hub-process.js';
import { createTestDatabase, postgresAvailability } from './test-support/postgres.js';
import pgDriver from 'pg';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: escalating
    match: { action: restart }
    approvers: [sre]
    escalation:
      - { after: 2s, notify: [leads] }
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    # alice sends every submission of these tests.
    maxPending: 1000
  - name: staging
    match: { action: migrate }
    approvers: [sre]
    maxPending: 6
`;

describe.skipIf(!pg.ok)(`two hubs on one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-multi-'));
  const policyFile = path.join(dir, 'policy.yaml');
  writeFileSync(policyFile, POLICY);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hubA: HubProcess, hubB: HubProcess;
  const clients: HubClient[] = [];
  const tokens: Record<string, string> = {};

  const connect = async (hub: HubProcess, user: string) => {
    const client = new HubClient({ url: hub.url, token: tokens[user]!, forceNew: true, transports: ['websocket'], reconnectionDelayMs: 100 });
    clients.push(client);
    client.connect();
    await client.waitUntilReady();
    return client;
  };
  const api = async <T>(hub: HubProcess, method: string, route: string, token: string | null, body?: unknown) => {
    const response = await fetch(hub.url + route, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const args = ['--database-url', database.url, '--policy', policyFile];
    hubA = new HubProcess(args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN });
    hubB = new HubProcess(args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN });
    // Started together: the migrations' advisory lock lets only one of them migrate.
    await Promise.all([hubA.start(), hubB.start()]);
    for (const [name, roles, groups] of [
      ['alice', ['requester'], []],
      ['bob', ['approver'], ['sre']],
      ['lena', ['lead'], ['leads']],
      ['luke', ['lead'], ['leads']],
      ['carol', ['approver'], ['sre']],
    ] as const) {
      const created = await api<{ token: string }>(hubA, 'POST', '/api/v1/users', ADMIN_TOKEN, { name, roles, groups });
      tokens[name] = created.body.token;
    }
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([hubA?.stop(), hubB?.stop()]);
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a request submitted on A reaches an approver on B, whose decision reaches the requester on A, with a grant B verifies', async () => {
    const alice = await connect(hubA, 'alice');
    const bob = await connect(hubB, 'bob');
    const bobCreated = collect<GreenlightRequest>((l) => bob.on('request:created', l));
    const aliceUpdated = collect<GreenlightRequest>((l) => alice.on('request:updated', l));

    const request = await alice.submit(deployRequest());
    await bobCreated.next((r) => r.id === request.id);
    await bob.decide({ requestId: request.id, decision: 'approve' });
    const approved = await aliceUpdated.next((r) => r.id === request.id && r.status === 'approved');
    const verified = await api<{ valid: boolean }>(hubB, 'POST', '/api/v1/grants/verify', null, { token: approved.grant?.token });
    expect(verified.body.valid).toBe(true);
  });

  it('a 500 KB diff crosses from one hub to the other intact', async () => {
    const alice = await connect(hubA, 'alice');
    const bob = await connect(hubB, 'bob');
    const bobCreated = collect<GreenlightRequest>((l) => bob.on('request:created', l));
    const diff = Array.from({ length: 10_000 }, (_, i) => `+line ${i} ${'x'.repeat(40)}`).join('\n');
    expect(diff.length).toBeGreaterThan(500_000);
    const request = await alice.submit(deployRequest({ context: { diff } }));
    const received = await bobCreated.next((r) => r.id === request.id);
    expect(received.context.diff).toBe(diff);
  });

  it('a submission crosses to the other hub as one message, and every approver on either hub hears of it once', async () => {
    // The Socket.IO adapter's channel: what one hub tells the others.
    const listener = new pgDriver.Client({ connectionString: database.url });
    await listener.connect();
    const crossHub = collect<string>((l) => {
      listener.on('notification', (message) => l(message.payload ?? ''));
      return () => listener.removeAllListeners('notification');
    });
    await listener.query('LISTEN "socket.io#/"');
    try {
      const bob = await connect(hubA, 'bob');
      const carol = await connect(hubB, 'carol');
      const aliceOnB = await connect(hubB, 'alice');
      const bobCreated = collect<GreenlightRequest>((l) => bob.on('request:created', l));
      const carolCreated = collect<GreenlightRequest>((l) => carol.on('request:created', l));
      const aliceUpdated = collect<GreenlightRequest>((l) => aliceOnB.on('request:updated', l));

      const first = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ reason: 'heard once' }))).body;
      const second = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ reason: 'after it' }))).body;
      // Pushes arrive in order: once the second is in, a repeat of the first would have been too.
      await Promise.all([bobCreated.next((r) => r.id === second.id), carolCreated.next((r) => r.id === second.id), aliceUpdated.next((r) => r.id === second.id)]);
      expect(bobCreated.items.filter((r) => r.id === first.id)).toHaveLength(1);
      expect(carolCreated.items.filter((r) => r.id === first.id)).toHaveLength(1);
      // The requester's window on the other hub gets their own view of it.
      expect(aliceUpdated.items.filter((r) => r.id === first.id)).toHaveLength(1);
      // The hubs' channel delivers in commit order too.
      await crossHub.next((payload) => payload.includes(second.id));
      expect(crossHub.items.filter((payload) => payload.includes(first.id))).toHaveLength(1);
    } finally {
      await listener.end();
    }
  });

  it('a malformed event on the hubs’ channel reaches nobody and breaks nothing', async () => {
    const carol = await connect(hubB, 'carol');
    const carolCreated = collect<GreenlightRequest>((l) => carol.on('request:created', l));
    const forger = new pgDriver.Client({ connectionString: database.url });
    await forger.connect();
    try {
      // What the adapter sends for a hub's `serverSideEmit`, from a hub that is not one.
      const forged = { uid: 'not-a-hub', nsp: '/', type: 9, data: { packet: ['request:event', { type: 'request.created', request: { id: 'req_forged', eligibleGroups: ['sre'] } }] } };
      await forger.query('SELECT pg_notify($1, $2)', ['socket.io#/', JSON.stringify(forged)]);
    } finally {
      await forger.end();
    }
    const request = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ reason: 'after the forgery' }))).body;
    await carolCreated.next((r) => r.id === request.id);
    expect(carolCreated.items.map((r) => r.id)).not.toContain('req_forged');
  });

  it('a delegation made or ended on A changes who hears of A’s requests on B at once, not at B’s next refresh', async () => {
    tokens.dana = (await api<{ token: string }>(hubA, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'dana', roles: ['approver'], groups: [] })).body.token;
    const dana = await connect(hubB, 'dana');
    const carol = await connect(hubB, 'carol');
    const danaCreated = collect<GreenlightRequest>((l) => dana.on('request:created', l));
    const carolCreated = collect<GreenlightRequest>((l) => carol.on('request:created', l));
    const made = await api<{ id: string }>(hubA, 'POST', '/api/v1/delegations', tokens.bob!, { to: 'dana', endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
    expect(made.status).toBe(201);

    const during = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ reason: 'while bob is away' }))).body;
    await danaCreated.next((r) => r.id === during.id);

    expect((await api(hubA, 'DELETE', `/api/v1/delegations/${made.body.id}`, tokens.bob!, {})).status).toBe(200);
    const after = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ reason: 'bob is back' }))).body;
    // carol, on the same hub as dana, hears of it; by then dana would have too, were she still his delegate.
    await carolCreated.next((r) => r.id === after.id);
    expect(danaCreated.items.map((r) => r.id)).not.toContain(after.id);
  });

  it('an escalation deadline with both hubs running fires exactly once', async () => {
    const lena = await connect(hubA, 'lena');
    const luke = await connect(hubB, 'luke');
    const lenaEscalated = collect<EscalatedPayload>((l) => lena.on('request:escalated', l));
    const lukeEscalated = collect<EscalatedPayload>((l) => luke.on('request:escalated', l));
    const request = (await api<GreenlightRequest>(hubB, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ action: 'restart' }))).body;
    await Promise.all([lenaEscalated.next((p) => p.request.id === request.id), lukeEscalated.next((p) => p.request.id === request.id)]);
    // Both hubs keep polling for due deadlines; a later request that escalates proves they ran past this one.
    const later = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ action: 'restart' }))).body;
    await lukeEscalated.next((p) => p.request.id === later.id);
    expect(lenaEscalated.items.filter((p) => p.request.id === request.id)).toHaveLength(1);
    expect(lukeEscalated.items.filter((p) => p.request.id === request.id)).toHaveLength(1);
    const events = await api<{ events: { requestId: string }[] }>(hubA, 'GET', '/api/v1/audit?type=request.escalated', ADMIN_TOKEN);
    expect(events.body.events.filter((e) => e.requestId === request.id)).toHaveLength(1);
  });

  it('concurrent submissions on both hubs keep one intact audit chain', async () => {
    const submissions = Array.from({ length: 60 }, (_, i) => api(i % 2 ? hubA : hubB, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ reason: `batch ${i}` })));
    const results = await Promise.all(submissions);
    expect(results.every((r) => r.status === 201)).toBe(true);
    const verify = await api<{ ok: boolean; events: number }>(hubB, 'GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verify.body).toMatchObject({ ok: true });
  });

  it('a pending cap holds across both hubs when a burst is split between them', async () => {
    const burst = Array.from({ length: 24 }, (_, i) => api<{ error?: { code: string } }>(i % 2 ? hubA : hubB, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ action: 'migrate', reason: `split burst ${i}` })));
    const replies = await Promise.all(burst);
    expect(replies.filter((reply) => reply.status === 201)).toHaveLength(6);
    expect(new Set(replies.filter((reply) => reply.status !== 201).map((reply) => reply.body.error?.code))).toEqual(new Set(['TOO_MANY_PENDING']));
  });

  it('an admin on A moves a user out of a group: their socket on B reconnects and stops hearing from it', async () => {
    tokens.gwen = (await api<{ token: string }>(hubA, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'gwen', roles: ['approver'], groups: ['sre'] })).body.token;
    const gwen = await connect(hubB, 'gwen');
    const bob = await connect(hubB, 'bob');
    const gwenSyncs = collect<SyncResult>((l) => gwen.onSync(l));
    const gwenCreated = collect<GreenlightRequest>((l) => gwen.on('request:created', l));
    const bobCreated = collect<GreenlightRequest>((l) => bob.on('request:created', l));

    expect((await api(hubA, 'PATCH', '/api/v1/users/gwen', ADMIN_TOKEN, { groups: ['leads'] })).status).toBe(200);
    await gwenSyncs.next((sync) => sync.me.groups.includes('leads'));
    const request = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ reason: 'after the move' }))).body;
    // bob, on the same hub and still in sre, hears of it; by then gwen would have too, had she stayed in the room.
    await bobCreated.next((r) => r.id === request.id);
    expect(gwenCreated.items.map((r) => r.id)).not.toContain(request.id);
  });

  it('when hub A dies with deadlines pending, hub B fires them', async () => {
    const luke = await connect(hubB, 'luke');
    const lukeEscalated = collect<EscalatedPayload>((l) => luke.on('request:escalated', l));
    const request = (await api<GreenlightRequest>(hubA, 'POST', '/api/v1/requests', tokens.alice!, deployRequest({ action: 'restart' }))).body;
    await hubA.kill();
    const payload = await lukeEscalated.next((p) => p.request.id === request.id);
    expect(payload.step).toBe(1);
    const events = await api<{ events: { requestId: string }[] }>(hubB, 'GET', '/api/v1/audit?type=request.escalated', ADMIN_TOKEN);
    expect(events.body.events.filter((e) => e.requestId === request.id)).toHaveLength(1);
  });
});
