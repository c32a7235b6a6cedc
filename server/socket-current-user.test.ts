import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

const pg = await postgresAvailability();

/**
 * On PostgreSQL another hub may change a user, and the news of it may come late or be lost. Here the
 * change is written straight into the database, as a hub whose message never arrived would leave it:
 * the socket's next event must act as the user is now, not as the handshake found them.
 */
describe('a socket event acts as its user is now, not as at the handshake', () => {
  if (!pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const hub = new TestHub('postgres', { policy: POLICY });
  let alice: TestUser, bob: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('erin', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('an approver taken out of the group meanwhile is refused, the request stays pending, and the socket reconnects', async () => {
    const bobsApp = await hub.connect(bob);
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;
    const { db } = hub.hub.ctx.store;
    await db.deleteFrom('user_groups').where('user_id', 'in', db.selectFrom('users').select('id').where('name', '=', 'bob')).execute();

    await expect(bobsApp.decide({ requestId: request.id, decision: 'approve' })).rejects.toMatchObject({ code: 'NOT_ELIGIBLE' });
    const after = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token);
    expect(after.body).toMatchObject({ status: 'pending', decisions: [] });
    // Dropped at the transport, it reconnects as who bob is now: nothing waits on him any more.
    await eventually(async () => {
      const sync = await bobsApp.sync().catch(() => undefined);
      return sync && sync.me.groups.length === 0 && !sync.inbox.some((pending) => pending.id === request.id) ? sync : undefined;
    }, { what: "bob's app to sync as a member of no group", deadline: 15_000 });
    bobsApp.close();
  });
});
