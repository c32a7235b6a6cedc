import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { capturedLog } from './test-support/captured-log.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

// A transport that fails on one event (a push, a message to another hub) happens after the commit.
describe('a listener that fails after a request was committed', () => {
  const log = capturedLog<{ level: number; msg: string; event?: string }>('error');
  const hub = new TestHub('sqlite', { logger: log.logger, policy: 'rules:\n  - { name: prod, match: { action: deploy }, approvers: [sre] }\n' });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    hub.hub.ctx.bus.on((event) => {
      if (event.type === 'request.created') throw new Error('the push failed');
    });
  });
  afterAll(() => hub.dispose());

  it('does not turn the submission into an error: the requester gets its request, and the failure is logged', async () => {
    const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(created.status).toBe(201);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}`, alice.token)).body).toMatchObject({ id: created.body.id, status: 'pending' });
    expect(log.lines()).toContainEqual(expect.objectContaining({ level: 50, event: 'request.created', msg: expect.stringContaining('the change stands') }));
  });
});
