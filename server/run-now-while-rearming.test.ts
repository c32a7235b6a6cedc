import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { deadlineStore } from './store/deadlines.js';
import { deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
`;

const pg = await postgresAvailability();

/**
 * `runNow` promises a pass over what is due when it is called. A call that lands while the scheduler
 * reads its next wake-up (the end of a pass) used to get that pass's end instead, and what fell due
 * meanwhile waited for the next timer: a test moving a manual clock then saw nothing happen.
 */
describe.each<DatabaseKind>(['sqlite', 'postgres'])('a run asked for while the scheduler reads its next wake-up, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2030-01-01T09:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('lena', ['lead'], ['leads']);
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(() => hub.dispose());

  it('fires what fell due before that run resolves', async () => {
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;
    const nextDue = deadlineStore.nextDue.bind(deadlineStore);
    let askedMeanwhile: Promise<void> | undefined;
    vi.spyOn(deadlineStore, 'nextDue').mockImplementation(async (db) => {
      if (!askedMeanwhile) {
        // Time passes (without running the clock's timers) and someone asks for a run.
        clock.set(new Date(clock.now().getTime() + 5 * 60_000 + 1000));
        askedMeanwhile = hub.hub.scheduler.runNow();
      }
      return nextDue(db);
    });
    await hub.hub.scheduler.runNow();
    expect(askedMeanwhile).toBeDefined();
    await askedMeanwhile;
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.escalationLevel).toBe(1);
  });
});
