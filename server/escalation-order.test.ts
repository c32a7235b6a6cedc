import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
      - { after: 15m, notify: [managers] }
    expireAfter: 1h
    claimHolds: 15m
  - name: pair
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    escalation:
      - { after: 5m, notify: [leads] }
    claimHolds: 15m
`;

const MINUTE = 60_000;
const pg = await postgresAvailability();

// A claim holds the first step past the second's time; the hub then catches up on both at once
// (it was down, paused on a database fault, or behind a backlog).
describe.each<DatabaseKind>(['sqlite', 'postgres'])('escalation steps a claim held back, caught up together on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2030-01-01T09:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, sam: TestUser, lena: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    sam = await hub.createUser('sam', ['approver'], ['sre']);
    lena = await hub.createUser('lena', ['lead'], ['leads']);
    await hub.createUser('max', ['lead'], ['managers']);
  });
  afterAll(() => hub.dispose());

  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };

  it('pages the on-call lead and then the manager, in order, rather than skipping the lead', async () => {
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;
    await advance(2 * MINUTE);
    expect((await hub.api('POST', `/api/v1/requests/${request.id}/claim`, sam.token)).status).toBe(200);
    // Step 1 falls due under the claim and waits for it (until 09:17).
    await advance(3 * MINUTE);
    // 09:20: step 2 (due 09:15) and step 1 (held to 09:17) are both due.
    await advance(15 * MINUTE);

    const { events } = (await hub.api<{ events: { type: string; requestId: string; data: { step: number; notified: string[]; skipped: number[] } }[] }>('GET', '/api/v1/audit?type=request.escalated&limit=100', ADMIN_TOKEN)).body;
    // The history lists newest first.
    expect(events.filter((event) => event.requestId === request.id).reverse().map((event) => [event.data.step, event.data.notified])).toEqual([
      [1, ['leads']],
      [2, ['managers']],
    ]);
    const decided = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, lena.token, { decision: 'approve' });
    expect(decided.status).toBe(200);
  });

  it('a claimer who then votes holds escalation back no longer: it fires at its time, the claim released', async () => {
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'migrate' }))).body;
    expect((await hub.api('POST', `/api/v1/requests/${request.id}/claim`, sam.token)).status).toBe(200);
    const voted = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, sam.token, { decision: 'approve' });
    expect(voted.body.status).toBe('pending');
    expect(voted.body.claim).toBeNull();
    await advance(5 * MINUTE);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.eligibleGroups).toContain('leads');
  });
});
