import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { capturedLog } from './test-support/captured-log.js';
import { collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

// Pushes go out on a later turn of the event loop, where a throw reaches no caller: left alone, it
// would be an uncaught exception, and the hub process would end.
describe('a push that fails while it is built', () => {
  const log = capturedLog<{ level: number; msg: string; event?: string }>('error');
  const hub = new TestHub('sqlite', { logger: log.logger, policy: 'rules:\n  - { name: prod, match: { action: deploy }, approvers: [sre] }\n' });
  let alice: TestUser, bob: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('is logged with its event type, and the hub goes on pushing the next request to a connected approver', async () => {
    const approver = await hub.connect(bob);
    const created = collect<GreenlightRequest>((listener) => approver.on('request:created', listener));
    const first = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: 'first' }));
    await created.next((request) => request.id === first.body.id);

    // A view built wrong (a bug, or a peer's event this hub cannot read): it has no list of decisions.
    const broken = { ...first.body, decisions: null } as unknown as GreenlightRequest;
    hub.hub.ctx.bus.emit({ type: 'request.updated', request: broken, notify: { groups: [], users: [] } });

    // Pushes go out in the order announced: the next one arriving means the broken one was tried.
    const second = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource: 'second' }));
    expect(second.status).toBe(201);
    await created.next((request) => request.id === second.body.id);
    expect(log.lines()).toContainEqual(expect.objectContaining({ level: 50, event: 'request.updated', msg: expect.stringContaining('pushing a request event failed') }));
  });
});
