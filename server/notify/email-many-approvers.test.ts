import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [everyone]
    notify: [email]
`;

/** On SQLite, one insert of this many email rows (16 values each) would bind more than its 32,766 parameters. */
const APPROVERS = 2100;

describe('a rule whose group holds thousands of approvers with an address', () => {
  // Not running: each message fails at once and waits for a retry the test never reaches.
  const smtp = new SmtpReceiver();
  let hub: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await smtp.start();
    await smtp.stop();
    hub = new TestHub('sqlite', { policy: POLICY, clock: new ManualClock(new Date()), notifiers: { email: { smtp: { host: '127.0.0.1', port: smtp.port }, from: 'Greenlight <greenlight@example.com>' } } });
    await hub.start();
    const { status, body } = await hub.api<{ token: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'], groups: [] });
    expect(status).toBe(201);
    alice = { name: 'alice', token: body.token };
    const createdAt = new Date().toISOString();
    await hub.hub.ctx.store.db.transaction().execute(async (trx) => {
      for (let n = 0; n < APPROVERS; n++) {
        const id = `usr_many${n}`;
        await trx.insertInto('users').values({ id, name: `approver-${n}`, roles: '["approver"]', disabled: 0, created_at: createdAt, email: `approver-${n}@example.com`, slack_user_id: null, service: 0 }).execute();
        await trx.insertInto('user_groups').values({ user_id: id, group_name: 'everyone' }).execute();
      }
    });
  });
  afterAll(async () => {
    await hub.dispose();
  });

  it(`takes the request and writes a message with its own Approve and Deny links for each of ${APPROVERS} approvers`, async () => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    expect(status, JSON.stringify(body)).toBe(201);
    const { db } = hub.hub.ctx.store;
    const messages = await db.selectFrom('outbox').select('destination').where('request_id', '=', body.id).where('channel', '=', 'email').execute();
    expect(new Set(messages.map((row) => row.destination)).size).toBe(APPROVERS);
    const links = await db.selectFrom('email_actions').select(['user_id', 'decision']).where('request_id', '=', body.id).execute();
    expect(links).toHaveLength(2 * APPROVERS);
  });
});
