import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - { name: capped, match: { action: deploy }, approvers: [sre], maxPending: 3, expireAfter: 1h }
  - { name: other, match: { action: restart }, approvers: [sre], expireAfter: 1h }
  - { name: quick, match: { action: read }, autoApprove: true, maxPending: 1 }
`;

type ErrorBody = { error: { code: string; message: string } };
const pg = await postgresAvailability();

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  const skip = database === 'postgres' && !pg.ok;
  describe(`submission guards on ${database}${skip && !pg.ok ? ` (skipped: ${pg.reason})` : ''}`, () => {
    const hub = new TestHub(database, { policy: POLICY });
    let alice: TestUser;
    let dave: TestUser;
    let bob: TestUser;

    beforeAll(async () => {
      if (skip) return;
      await hub.start();
      alice = await hub.createUser('alice', ['requester']);
      dave = await hub.createUser('dave', ['requester']);
      bob = await hub.createUser('bob', ['approver'], ['sre']);
    });
    afterAll(() => hub.dispose());

    const submit = (user: TestUser, body: unknown) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, body);

    it.skipIf(skip)('an idempotency key reused with a different body is refused, and never returns the first request or its grant', async () => {
      const first = await submit(alice, deployRequest({ resource: 'billing', idempotencyKey: 'pipeline-run-7' }));
      expect(first.status).toBe(201);
      const retry = await submit(alice, deployRequest({ resource: 'billing', idempotencyKey: 'pipeline-run-7' }));
      expect(retry.status).toBe(200);
      expect(retry.body.id).toBe(first.body.id);

      for (const changed of [{ resource: 'ledger' }, { reason: 'another reason' }, { risk: 'low' }, { context: { summary: 'something else' } }]) {
        const reused = await submit(alice, deployRequest({ resource: 'billing', idempotencyKey: 'pipeline-run-7', ...changed }));
        expect(reused.status).toBe(409);
        expect(reused.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
        expect(reused.body.error.message).toContain(first.body.id);
        expect(reused.body).not.toHaveProperty('id');
      }
      // Another requester's key space is their own.
      expect((await submit(dave, deployRequest({ resource: 'ledger', idempotencyKey: 'pipeline-run-7' }))).status).toBe(201);
    });

    it.skipIf(skip)('caps pending requests per requester and rule, naming the count; a decision frees a place', async () => {
      const carl = await hub.createUser('carl', ['requester']);
      const mine: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const created = await submit(carl, deployRequest({ resource: `svc-${i}` }));
        expect(created.status).toBe(201);
        mine.push(created.body.id);
      }
      const refused = await submit(carl, deployRequest({ resource: 'svc-over' }));
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('TOO_MANY_PENDING');
      expect(refused.body.error.message).toMatch(/already have 3 requests waiting under rule "capped"/);
      // Other rules and other people are not affected.
      expect((await submit(carl, deployRequest({ action: 'restart', resource: 'svc-x' }))).status).toBe(201);
      expect((await submit(alice, deployRequest({ resource: 'svc-alice' }))).status).toBe(201);
      // Auto-approved requests never wait, so they never count.
      for (let i = 0; i < 3; i += 1) expect((await submit(carl, deployRequest({ action: 'read', resource: `r-${i}` }))).status).toBe(201);

      const decided = await hub.api('POST', `/api/v1/requests/${mine[0]}/decisions`, bob.token, { decision: 'deny', comment: 'not now' });
      expect(decided.status).toBe(200);
      expect((await submit(carl, deployRequest({ resource: 'svc-again' }))).status).toBe(201);
    });
  });
}
