import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from '../server/test-support/hub-fixture.js';
import { postgresAvailability } from '../server/test-support/postgres.js';

/**
 * `audit verify` while hubs keep writing and signing checkpoints every few events: an intact log never
 * reads as tampered (no "removed" from a head read apart from its rows, no checkpoint past the head).
 */

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], expireAfter: 1h, maxPending: 100000 }
`;

const pg = await postgresAvailability();
const options = { policy: POLICY, checkpointEveryEvents: 3, checkpointIntervalMs: 50 };

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  const skip = database === 'postgres' && !pg.ok;
  describe(`audit verify under writes on ${database}${database === 'postgres' ? ', two hubs' : ''}${skip ? ` (skipped: ${pg.reason})` : ''}`, () => {
    const hubs: TestHub[] = [];
    let alice: TestUser;

    beforeAll(async () => {
      if (skip) return;
      const first = new TestHub(database, options);
      await first.start();
      hubs.push(first);
      if (database === 'postgres') {
        const second = new TestHub(database, options);
        second.databaseUrl = first.databaseUrl;
        await second.start();
        hubs.push(second);
      }
      await first.createUser('bob', ['approver'], ['sre']);
      alice = await first.createUser('alice', ['requester']);
    });
    afterAll(async () => {
      for (const hub of hubs.slice(1)) await hub.stop().catch(() => undefined);
      await hubs[0]?.dispose();
    });

    it.skipIf(skip)('zero false alarms over many verifies, each through a hub that is signing checkpoints meanwhile', async () => {
      let writing = true;
      let written = 0;
      const writers = hubs.flatMap((hub) =>
        Array.from({ length: 3 }, async () => {
          while (writing) {
            expect((await hub.api('POST', '/api/v1/requests', alice.token, deployRequest({ resource: `svc-${written}` }))).status).toBe(201);
            written += 1;
          }
        }),
      );
      const outcomes: unknown[] = [];
      try {
        // At least 30 verifies, and on until the writers have added plenty of events (and checkpoints) underneath them.
        for (let round = 0; round < 500 && (round < 30 || written < 60); round += 1) {
          const hub = hubs[round % hubs.length]!;
          outcomes.push((await hub.api('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body);
        }
      } finally {
        writing = false;
        await Promise.all(writers);
      }
      expect(written).toBeGreaterThan(30);
      expect(outcomes.filter((outcome) => !(outcome as { ok: boolean }).ok)).toEqual([]);
      const checkpoints = await hubs[0]!.hub.ctx.store.db.selectFrom('audit_checkpoints').select('seq').execute();
      expect(checkpoints.length).toBeGreaterThan(5);
    });
  });
}
