import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { announceEachUpdated, changedRequest } from './lifecycle/after-commit.js';
import { capturedLog } from '../test-support/captured-log.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

interface Warning {
  level: number;
  msg: string;
  requestId?: string;
}

// What a committed change touched is announced after the commit, reading each request back: a delegation
// running out, or someone's access changing, may touch many at once.
describe('announcing the requests a committed change touched', () => {
  const log = capturedLog<Warning>();
  const hub = new TestHub('sqlite', { policy: POLICY, logger: log.logger });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  const submit = async () => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;

  it('announces the others when one cannot be read back, and logs which one', async () => {
    const damaged = await submit();
    const sound = await submit();
    // A damaged row: reading it back throws.
    await hub.hub.ctx.store.db.updateTable('requests').set({ rule: '{not json' }).where('id', '=', damaged.id).execute();

    const events = await announceEachUpdated(hub.hub.ctx, [changedRequest(damaged.id, ['dana']), changedRequest(sound.id, ['dana'])])();

    expect(events).toEqual([expect.objectContaining({ type: 'request.updated', request: expect.objectContaining({ id: sound.id }), notify: { groups: [], users: ['dana'] } })]);
    expect(log.warnings()).toContainEqual(expect.objectContaining({ requestId: damaged.id, msg: 'could not announce a changed request; clients see it at their next sync' }));
  });

  it('announces a request named more than once once, to everyone any of them named', async () => {
    const request = await submit();

    const events = await announceEachUpdated(hub.hub.ctx, [changedRequest(request.id, ['dana']), changedRequest(request.id), changedRequest(request.id, ['eve', 'dana'])])();

    expect(events).toEqual([expect.objectContaining({ request: expect.objectContaining({ id: request.id }), notify: { groups: [], users: ['dana', 'eve'] } })]);
  });
});
