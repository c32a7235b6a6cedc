import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { authenticate } from './domain/users.js';
import { CHAT_DECISIONS_OFF, decideRequest } from './domain/requests.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - { name: console-only, match: { action: deploy }, approvers: [sre], chatApprove: false }
`;

// Whatever path a chat decision takes to the hub (a click, a form, one not opened by a click), the
// rule's chatApprove is held where every decision is made, not only where Slack's answers are worded.
describe('a rule that takes no decision from chat, held by the decision itself', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser, bob: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('refuses a decision made through Slack with the words its click is told, and records nothing; the app decides it', async () => {
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;
    const actor = await authenticate(hub.hub.ctx, bob.token);
    for (const decision of ['approve', 'deny'] as const) {
      await expect(decideRequest(hub.hub.ctx, actor!, request.id, { decision, comment: 'from chat' }, 'slack')).rejects.toMatchObject({ code: 'FORBIDDEN', message: CHAT_DECISIONS_OFF });
    }
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, ADMIN_TOKEN)).body).toMatchObject({ status: 'pending', decisions: [] });
    expect((await decideRequest(hub.hub.ctx, actor!, request.id, { decision: 'approve' }, 'app')).status).toBe('approved');
  });
});
