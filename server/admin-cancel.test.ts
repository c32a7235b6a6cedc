import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

type ErrorBody = { error: { code: string; message: string } };

describe('an admin cancelling someone else’s pending request', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser, bob: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  const submit = async (reason: string) => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason }))).body;
  const cancel = (token: string, id: string, body?: unknown) => hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/cancel`, token, body);

  it('ends it with a reason; the requester is told who and why, live and in the audit log', async () => {
    const aliceClient = await hub.connect(alice);
    const updates = collect<GreenlightRequest>((listener) => aliceClient.on('request:updated', listener));
    const request = await submit('stuck since friday');

    const reply = await cancel(ADMIN_TOKEN, request.id, { reason: 'superseded by CHG-88' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ status: 'cancelled', decidedBy: 'admin', cancelReason: 'superseded by CHG-88' });

    const told = await updates.next((update) => update.id === request.id && update.status === 'cancelled');
    expect(told.decidedBy).toBe('admin');
    expect(told.cancelReason).toBe('superseded by CHG-88');
    expect(told.timeline.at(-1)).toMatchObject({ type: 'request.cancelled', actor: 'admin', detail: 'superseded by CHG-88' });

    const audit = await hub.api<{ events: { requestId: string; actor: string; data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=request.cancelled', ADMIN_TOKEN);
    expect(audit.body.events.find((event) => event.requestId === request.id)).toMatchObject({ actor: 'admin', data: { reason: 'superseded by CHG-88', byAdmin: true } });
    // The pending place is freed and the request's approver no longer has it waiting.
    const sync = await (await hub.connect(bob)).sync();
    expect(sync.inbox.map((r) => r.id)).not.toContain(request.id);
  });

  it('needs a reason from the admin, and stays pending without one', async () => {
    const request = await submit('no reason given');
    for (const body of [undefined, {}, { reason: '   ' }]) {
      const reply = await cancel(ADMIN_TOKEN, request.id, body);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('INVALID_INPUT');
    }
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.status).toBe('pending');
  });

  it('is refused to anyone else who is not the requester; the requester needs no reason; a decided request stays decided', async () => {
    const request = await submit('keep it');
    const byApprover = await cancel(bob.token, request.id, { reason: 'tidying up' });
    expect(byApprover.status).toBe(403);
    expect(byApprover.body.error.code).toBe('FORBIDDEN');
    const own = await cancel(alice.token, request.id);
    expect(own.body).toMatchObject({ status: 'cancelled', decidedBy: 'alice' });
    expect(own.body.cancelReason).toBeUndefined();
    const again = await cancel(ADMIN_TOKEN, request.id, { reason: 'too late' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_DECIDED');
  });

  it('works over the socket too', async () => {
    const request = await submit('over the socket');
    const admin = await hub.connect({ name: 'admin', token: ADMIN_TOKEN });
    const cancelled = await admin.cancel(request.id, 'duplicate of an earlier request');
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'duplicate of an earlier request' });
  });
});
