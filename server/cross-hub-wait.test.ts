import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { deployRequest, startOnOneDatabase, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

describe.skipIf(!pg.ok)(`a long-poll on one hub, a decision on another${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  // The backstop poll is set far beyond this test's timeout: only the hubs' own message can answer in time.
  const hubA = new TestHub('postgres', { policy: POLICY, waitPollMs: 120_000 });
  const hubB = new TestHub('postgres', { policy: POLICY, waitPollMs: 120_000 });
  let alice: TestUser, bob: TestUser;

  beforeAll(async () => {
    await startOnOneDatabase(hubA, hubB);
    alice = await hubA.createUser('alice', ['requester']);
    bob = await hubA.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    await hubB.dispose();
    await hubA.dispose();
  });

  it('answers the waiting pipeline as soon as the approver decides, without waiting for its next poll', { timeout: 15_000 }, async () => {
    const created = await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(created.status).toBe(201);
    const waiting = hubA.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}/wait?timeoutSeconds=60`, alice.token);
    // The decision must land on hub B only once hub A holds the long-poll, or A would answer from its first read.
    await expect.poll(async () => (await hubA.api<string>('GET', '/metrics', null)).body, { timeout: 5_000 }).toMatch(/^greenlight_long_polls 1$/m);
    const decided = await hubB.api<GreenlightRequest>('POST', `/api/v1/requests/${created.body.id}/decisions`, bob.token, { decision: 'approve' });
    expect(decided.status).toBe(200);

    const answered = await waiting;
    expect(answered.status).toBe(200);
    expect(answered.body.status).toBe('approved');
    expect(answered.body.decidedBy).toBe('bob');
  });
});
