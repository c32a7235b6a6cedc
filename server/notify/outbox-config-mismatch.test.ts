import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { eventually } from '../test-support/eventually.js';
import { postgresAvailability } from '../test-support/postgres.js';
import { newWebhookSecret, WebhookReceiver } from '../test-support/webhook-receiver.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], notify: ['webhook:ops'] }
`;

// Hubs on one database need not share one configuration for a while (a rolling upgrade, a hub
// started to debug): the notifications one hub is configured for are not another's to give up.
describe.skipIf(!pg.ok)(`a hub started without a webhook another hub delivers to, on PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  let first: TestHub;
  let second: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await receiver.start();
    first = new TestHub('postgres', { policy: POLICY, notifiers: { allowPrivateNetworks: true, webhooks: [{ name: 'ops', url: `${receiver.url}/ops`, secret }] } });
    await first.start();
    alice = await first.createUser('alice', ['requester']);
    await first.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    await second?.dispose();
    await first.dispose();
    await receiver.close();
  });

  it('leaves them pending for the hub that has it, which delivers them once its receiver answers', async () => {
    receiver.reply = () => ({ status: 503 });
    expect((await first.api('POST', '/api/v1/requests', alice.token, deployRequest())).status).toBe(201);
    await eventually(async () => (receiver.received.length > 0 ? true : undefined), { what: 'a first, refused, delivery' });

    // An older configuration: no webhook, and a policy that names none.
    second = new TestHub('postgres', { policy: POLICY.replace(", notify: ['webhook:ops']", '') });
    second.databaseUrl = first.databaseUrl;
    await second.start();
    const row = await first.hub.ctx.store.db.selectFrom('outbox').select(['status', 'last_error']).where('channel', '=', 'webhook').executeTakeFirstOrThrow();
    expect(row.status).toBe('pending');

    receiver.reply = () => ({ status: 200 });
    // Its retry comes due now rather than after the backoff.
    await first.hub.ctx.store.db.updateTable('outbox').set({ next_attempt_at: new Date().toISOString() }).where('channel', '=', 'webhook').execute();
    await first.hub.dispatcher.runNow();
    await eventually(async () => {
      const status = (await first.hub.ctx.store.db.selectFrom('outbox').select('status').where('channel', '=', 'webhook').executeTakeFirstOrThrow()).status;
      return status === 'delivered' ? status : undefined;
    }, { what: 'the delivery once the receiver answers' });
  });
});
