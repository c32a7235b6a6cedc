import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EscalatedPayload, GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
`;

const MINUTE = 60_000;

describe('an escalation to an on-call lead who is away', () => {
  const clock = new ManualClock(new Date('2026-12-03T09:00:00Z'));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let alice: TestUser, lena: TestUser, dan: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('sam', ['approver'], ['sre']);
    lena = await hub.createUser('lena', ['lead'], ['leads']);
    dan = await hub.createUser('dan', ['lead'], ['platform']);
  });
  afterAll(() => hub.dispose());

  it('reaches her delegate as an escalation to him, at once', async () => {
    const endsAt = new Date(clock.now().getTime() + 86_400_000).toISOString();
    expect((await hub.api('POST', '/api/v1/delegations', lena.token, { to: 'dan', endsAt, reason: 'on leave' })).status).toBe(201);
    const danClient = await hub.connect(dan);
    const escalated = collect<EscalatedPayload>((listener) => danClient.on('request:escalated', listener));
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;

    clock.advance(5 * MINUTE);
    await hub.hub.scheduler.runNow();
    const heard = await escalated.next((payload) => payload.request.id === request.id);
    expect(heard.request.eligibleGroups).toContain('leads');
    // And he may decide it for her.
    const decided = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, dan.token, { decision: 'approve' });
    expect(decided.body.status).toBe('approved');
  });
});
