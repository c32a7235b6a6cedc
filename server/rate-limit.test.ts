import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenlightError } from '../protocol/index.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

describe('rate limits per token', () => {
  const hub = new TestHub('sqlite', { rateLimitPerMinute: 8 });
  let alice: TestUser, bob: TestUser;
  beforeAll(async () => {
    await hub.start();
    // Users are created with the admin token, which has its own budget.
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['requester']);
    await hub.createUser('carol', ['approver'], ['approvers']);
  });
  afterAll(() => hub.dispose());

  it('a flood over HTTP gets 429 RATE_LIMITED while another token is unaffected', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => hub.api<{ error?: { code: string } }>('POST', '/api/v1/requests', alice.token, deployRequest())));
    const limited = results.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((r) => r.body.error?.code === 'RATE_LIMITED')).toBe(true);
    expect((await hub.api('POST', '/api/v1/requests', bob.token, deployRequest())).status).toBe(201);
  });

  it('a flood over the socket is refused the same way, per user', async () => {
    const client = await hub.connect(bob); // its sync on connect counts too
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => client.submit(deployRequest())));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((o) => o.reason instanceof GreenlightError && o.reason.code === 'RATE_LIMITED')).toBe(true);
  });
});
