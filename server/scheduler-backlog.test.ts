import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
    # alice alone submits the whole backlog.
    maxPending: 10000
`;
const BACKLOG = 1_500;

describe('a backlog of due deadlines', () => {
  const clock = new ManualClock(new Date());
  const hub = new TestHub('sqlite', { policy: POLICY, clock, rateLimitPerMinute: 1_000_000 });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('lena', ['lead'], ['leads']);
    // An approver in sre, so requests wait for their escalation deadline instead of escalating at submission.
    await hub.createUser('bob', ['approver'], ['sre']);
    for (let sent = 0; sent < BACKLOG; sent += 100) {
      await Promise.all(Array.from({ length: 100 }, () => hub.api('POST', '/api/v1/requests', alice.token, deployRequest())));
    }
  });
  afterAll(() => hub.dispose());

  it('is worked through while the hub keeps answering HTTP, and every deadline fires once', async () => {
    let escalated = 0;
    hub.hub.ctx.bus.on((event) => {
      if (event.type === 'request.escalated') escalated += 1;
    });
    // Every escalation falls due at once, as after a hub was down for a while.
    clock.advance(6 * 60_000);
    const health = await hub.api<{ status: string }>('GET', '/healthz', null);
    const escalatedWhenAnswered = escalated;
    await hub.hub.scheduler.runNow();

    expect(health.body.status).toBe('ok');
    // The reply came while the backlog was still being worked through, not after it.
    expect(escalatedWhenAnswered).toBeLessThan(BACKLOG);
    expect(escalated).toBe(BACKLOG);
  });
});
