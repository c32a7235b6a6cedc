import { describe, expect, it } from 'vitest';
import type { ConnectionState, GreenlightRequest, SyncResult } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { hubsWithProxiedDatabase } from './test-support/proxied-hubs.js';
import { eventually } from './test-support/eventually.js';

const pg = await postgresAvailability();

describe.skipIf(!pg.ok)(`hubs when PostgreSQL goes away and comes back${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const { proxy, hubA, hubB, users } = hubsWithProxiedDatabase();

  it('reports unhealthy and refuses writes with UNAVAILABLE while the database is unreachable', async () => {
    expect((await hubA.api('GET', '/healthz', null)).status).toBe(200);
    proxy.cut();
    const health = await hubA.api<{ status: string }>('GET', '/healthz', null);
    expect(health.status).toBe(503);
    const write = await hubA.api<{ error: { code: string; message: string } }>('POST', '/api/v1/requests', users.alice.token, deployRequest());
    expect(write.status).toBe(503);
    expect(write.body.error.code).toBe('UNAVAILABLE');
    expect(write.body.error.message).toContain('nothing was stored');
    proxy.restore();
    await eventually(async () => (await hubA.api('GET', '/healthz', null)).status === 200, { what: 'hub A healthy again', every: 200 });
  });

  it('answers /readyz 503 naming the database while it is unreachable, and ready once it is back', async () => {
    const ready = await hubA.api<{ status: string; checks: Record<string, string> }>('GET', '/readyz', null);
    expect(ready).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', scheduler: 'ok', auditCheckpoints: 'ok' } } });
    proxy.cut();
    const down = await hubA.api<{ status: string; checks: Record<string, string>; error: { code: string; message: string } }>('GET', '/readyz', null);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.checks.database).toBe('failing');
    expect(down.body.error.code).toBe('UNAVAILABLE');
    expect(down.body.error.message).toMatch(/^The hub cannot reach its database \(postgres:\/\/[^)]+\): /);
    proxy.restore();
    await eventually(async () => (await hubA.api('GET', '/readyz', null)).status === 200, { what: 'hub A ready again', every: 200 });
  });

  it('re-listens after the outage, so events cross hubs again', async () => {
    proxy.cut();
    proxy.restore();
    await eventually(async () => (await hubB.api('GET', '/healthz', null)).status === 200, { what: 'hub B healthy again', every: 200 });
    const bobOnA = await hubA.connect(users.bob);
    const created = collect<GreenlightRequest>((listener) => bobOnA.on('request:created', listener));
    // The adapter reconnects on its own delay; keep submitting on B until one reaches A.
    await eventually(async () => {
      await hubB.api('POST', '/api/v1/requests', users.alice.token, deployRequest());
      return created.items.length > 0;
    }, { what: 'a request submitted on hub B reaches an approver on hub A', every: 200 });
    expect(created.items[0]?.requester).toBe('alice');
  });

  it('clients on a hub that could not hear the others sync again once it listens again, and find what crossed meanwhile', async () => {
    const bobOnA = await hubA.connect(users.bob);
    const syncs = collect<SyncResult>((listener) => bobOnA.onSync(listener));
    const created = collect<GreenlightRequest>((listener) => bobOnA.on('request:created', listener));
    proxy.cut();
    // Hub A's connection to the database, the one it listens on too, is down: B's push goes past it.
    const submitted = await hubB.api<GreenlightRequest>('POST', '/api/v1/requests', users.alice.token, deployRequest({ reason: 'while hub A could not hear' }));
    expect(submitted.status).toBe(201);
    // B's push goes out as the submission is answered; A listens again no sooner than a second after
    // the restore (the adapter's reconnection delay), so the push has gone past it by then.
    proxy.restore();
    const synced = await syncs.next((result) => result.inbox.some((waiting) => waiting.id === submitted.body.id), 20_000);
    expect(synced.inbox.find((waiting) => waiting.id === submitted.body.id)?.reason).toBe('while hub A could not hear');
    expect(created.items.map((request) => request.id)).not.toContain(submitted.body.id);
  });

  it('sockets of users disabled or moved to other groups on another hub while this one could not hear are dropped once it hears again', async () => {
    const erin = await hubA.createUser('erin', ['approver'], ['approvers']);
    const carol = await hubA.createUser('carol', ['approver'], ['approvers']);
    const dave = await hubA.createUser('dave', ['approver'], ['approvers']);
    const erinOnA = await hubA.connect(erin);
    const carolOnA = await hubA.connect(carol);
    const daveOnA = await hubA.connect(dave);
    const carolStates = collect<ConnectionState>((listener) => carolOnA.onState(listener));
    proxy.cut();
    // Told on hub B while hub A cannot hear: the messages that would close or re-room A's sockets go past it.
    expect((await hubB.api('POST', '/api/v1/users/erin/disable', ADMIN_TOKEN)).status).toBe(200);
    expect((await hubB.api('PATCH', '/api/v1/users/carol', ADMIN_TOKEN, { groups: ['elsewhere'] })).status).toBe(200);
    proxy.restore();
    await eventually(() => erinOnA.state === 'unauthorized', { what: "erin's session on hub A ended", every: 200 });
    expect(erinOnA.error?.code).toBe('UNAUTHENTICATED');
    await carolStates.next((state) => state === 'reconnecting', 20_000);
    await eventually(() => carolOnA.state === 'connected', { what: 'carol reconnected to hub A' });
    // Carol is out of the approvers' room now: the new request reaches dave, not her.
    const toCarol = collect<GreenlightRequest>((listener) => carolOnA.on('request:created', listener));
    const toDave = collect<GreenlightRequest>((listener) => daveOnA.on('request:created', listener));
    const submitted = await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', users.alice.token, deployRequest({ reason: 'after carol moved' }));
    await toDave.next((request) => request.id === submitted.body.id);
    expect(toCarol.items.map((request) => request.id)).not.toContain(submitted.body.id);
  });
});
