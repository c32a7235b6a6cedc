import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from './domain/audit.js';
import { deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], expireAfter: 1h, maxPending: 100000 }
`;

const pg = await postgresAvailability();

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  const skip = database === 'postgres' && !pg.ok;
  describe(`audit verify while the hub writes, on ${database}${skip && !pg.ok ? ` (skipped: ${pg.reason})` : ''}`, () => {
    const hub = new TestHub(database, { policy: POLICY });
    let alice: TestUser;

    beforeAll(async () => {
      if (skip) return;
      await hub.start();
      alice = await hub.createUser('alice', ['requester']);
      await hub.createUser('bob', ['approver'], ['sre']);
    });
    afterAll(() => hub.dispose());

    it.skipIf(skip)('never reports tampering on an intact log (verify walks up to the head it read first)', async () => {
      let writing = true;
      let written = 0;
      const writers = Array.from({ length: 4 }, async () => {
        while (writing) {
          const response = await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `svc-${written}` }));
          expect(response.status).toBe(201);
          written += 1;
        }
      });
      const outcomes = [];
      try {
        // Small batches make each verify span many reads, as a long log does.
        for (let round = 0; round < 40; round += 1) outcomes.push(await verifyChain(hub.hub.ctx.store.db, 7));
      } finally {
        writing = false;
        await Promise.all(writers);
      }
      expect(written).toBeGreaterThan(0);
      expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
      expect(await verifyChain(hub.hub.ctx.store.db)).toMatchObject({ ok: true });
    });
  });
}
