import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, GreenlightRequest } from '../protocol/index.js';
import { audit } from './domain/context.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod-deploys
    match: { action: deploy, environment: production }
    approvers: [sre]
    escalation:
      - { after: 1h, notify: [leads] }
    expireAfter: 2h
    # One requester sends the whole burst.
    maxPending: 1000
  - name: staging-deploys
    match: { action: deploy, environment: staging }
    approvers: [sre]
    maxPending: 5
`;

describe.each<DatabaseKind>(['sqlite', 'postgres'])('submissions written together (group commit) on %s', (kind) => {
  const skip = kind === 'postgres' && !pg.ok;
  const hub = new TestHub(kind, { policy: POLICY });
  let alice: TestUser;

  beforeAll(async () => {
    if (skip) return;
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it.skipIf(skip)('stores every one of a burst exactly once, keeps idempotency within the burst, and keeps the chain intact', async () => {
    // The last 20 are retries of the first 20: the same key with the same body.
    const bodies = Array.from({ length: 120 }, (_, i) => deployRequest({ reason: `burst ${i % 100}`, idempotencyKey: `burst-${kind}-${i % 100}` }));
    const replies = await Promise.all(bodies.map((body) => hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, body)));

    expect(replies.filter((reply) => reply.status === 201)).toHaveLength(100);
    expect(replies.filter((reply) => reply.status === 200)).toHaveLength(20);
    replies.forEach((reply, i) => {
      const sameKey = replies[i % 100];
      expect(reply.body.id).toBe(sameKey?.body.id);
    });
    const created = replies.filter((reply) => reply.status === 201).map((reply) => reply.body);
    expect(new Set(created.map((request) => request.id)).size).toBe(100);
    for (const request of created) {
      expect(request.status).toBe('pending');
      expect(request.nextEscalationAt).not.toBeNull();
      expect(request.timeline.map((entry) => entry.type)).toEqual(['request.submitted']);
    }

    const mine = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true&limit=500', alice.token);
    const stored = mine.body.requests.filter((request) => request.reason.startsWith('burst '));
    expect(stored.map((request) => request.id).sort()).toEqual(created.map((request) => request.id).sort());

    const events = await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=request.submitted&limit=500', ADMIN_TOKEN);
    const submittedIds = events.body.events.map((event) => event.requestId).filter((id) => id && created.some((request) => request.id === id));
    expect(submittedIds).toHaveLength(100);
    const verify = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verify.body.ok).toBe(true);
  });

  it.skipIf(skip)('holds the pending cap over a burst written together, and frees a place when one is cancelled', async () => {
    const carol = await hub.createUser('carol', ['requester']);
    const burst = Array.from({ length: 20 }, (_, i) => deployRequest({ environment: 'staging', reason: `staging burst ${i}` }));
    const replies = await Promise.all(burst.map((body) => hub.api<GreenlightRequest & { error?: { code: string } }>('POST', '/api/v1/requests', carol.token, body)));

    const accepted = replies.filter((reply) => reply.status === 201);
    expect(accepted).toHaveLength(5);
    expect(replies.filter((reply) => reply.status !== 201).map((reply) => reply.body.error?.code)).toEqual(Array.from({ length: 15 }, () => 'TOO_MANY_PENDING'));
    // Another requester has a cap of their own.
    expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ environment: 'staging' }))).status).toBe(201);

    const cancelled = await hub.api('POST', `/api/v1/requests/${accepted[0]?.body.id}/cancel`, carol.token, {});
    expect(cancelled.status).toBe(200);
    const again = await Promise.all([1, 2].map(() => hub.api('POST', '/api/v1/requests', carol.token, deployRequest({ environment: 'staging' }))));
    expect(again.map((reply) => reply.status).sort()).toEqual([201, 429]);
  });

  it.skipIf(skip)('commits the others when one write in a group fails, and keeps nothing of the failed one', async () => {
    const ctx = hub.hub.ctx;
    const marker = `group-${kind}-${Date.now()}`;
    const write = (label: string, fail: boolean) =>
      ctx.submissions.run(async (trx) => {
        await audit(ctx, trx, { actor: 'test', type: 'policy.loaded', outcome: 'loaded', data: { marker, label } });
        if (fail) throw new Error(`write ${label} failed`);
        return label;
      });
    // Queued in one turn, so they are offered to one transaction together.
    const outcomes = await Promise.allSettled([write('a', false), write('b', true), write('c', false)]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[1]?.status === 'rejected' && String(outcomes[1].reason)).toContain('write b failed');
    const events = await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?q=${marker}&limit=50`, ADMIN_TOKEN);
    expect(events.body.events.map((event) => event.data.label).sort()).toEqual(['a', 'c']);
    const verify = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verify.body.ok).toBe(true);
  });

  it.skipIf(skip)('writes jobs queued together in one transaction, and runs them again each alone when that one fails', async () => {
    const ctx = hub.hub.ctx;
    const seen: { label: string; trx: object }[] = [];
    const write = (label: string, fail: boolean) =>
      ctx.submissions.run(async (trx) => {
        seen.push({ label, trx });
        if (fail && seen.filter((entry) => entry.label === label).length === 1) throw new Error(`write ${label} failed once`);
        return label;
      });

    await Promise.all([write('a', false), write('b', false), write('c', false)]);
    expect(seen.map((entry) => entry.label)).toEqual(['a', 'b', 'c']);
    expect(new Set(seen.map((entry) => entry.trx)).size).toBe(1);

    seen.length = 0;
    // b fails only the first time: the shared attempt fails, then each job is written alone and b succeeds.
    expect(await Promise.all([write('a', false), write('b', true), write('c', false)])).toEqual(['a', 'b', 'c']);
    expect(seen.map((entry) => entry.label)).toEqual(['a', 'b', 'a', 'b', 'c']);
    const shared = seen[0]?.trx;
    expect(seen[1]?.trx).toBe(shared);
    expect(new Set(seen.slice(2).map((entry) => entry.trx)).size).toBe(3);
    expect(seen.slice(2).some((entry) => entry.trx === shared)).toBe(false);
  });

  it.skipIf(skip)('writes jobs queued while a transaction writes together in the next, which sees the first one committed', async () => {
    const ctx = hub.hub.ctx;
    const marker = `overlap-${kind}-${Date.now()}`;
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstWriting!: () => void;
    const firstStarted = new Promise<void>((resolve) => (firstWriting = resolve));
    const first = ctx.submissions.run(async (trx) => {
      await audit(ctx, trx, { actor: 'test', type: 'policy.loaded', outcome: 'loaded', data: { marker, label: 'first' } });
      firstWriting();
      await firstHeld;
      return trx;
    });
    await firstStarted;
    const later = ['b', 'c'].map((label) =>
      ctx.submissions.run(async (trx) => {
        const committed = await trx.selectFrom('audit_events').select('seq').where('data', 'like', `%${marker}%`).execute();
        await audit(ctx, trx, { actor: 'test', type: 'policy.loaded', outcome: 'loaded', data: { marker, label } });
        return { trx, sawFirst: committed.length >= 1 };
      }),
    );
    // The group commit takes queued jobs on its next turn of the event loop (`setImmediate`): let that
    // turn pass with the first still writing, so jobs taken too early would run before it commits.
    await new Promise((resolve) => setImmediate(resolve));
    releaseFirst();
    const firstTrx = await first;
    const [b, c] = await Promise.all(later);

    expect(b?.sawFirst && c?.sawFirst).toBe(true);
    expect(b?.trx).toBe(c?.trx);
    expect(b?.trx).not.toBe(firstTrx);
    const events = await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?q=${marker}&limit=50`, ADMIN_TOKEN);
    expect(events.body.events.map((event) => event.data.label).sort()).toEqual(['b', 'c', 'first']);
    const verify = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verify.body.ok).toBe(true);
  });
});
