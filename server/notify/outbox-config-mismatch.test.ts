import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { outboxStore, type OutboxRecord } from '../store/outbox.js';
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

describe.skipIf(!pg.ok)(`a running hub on PostgreSQL gives up, within the hour, notifications no hub is configured to send${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const receiver = new WebhookReceiver();
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  const orphan = (id: string, dueAt: Date, lease: { owner: string; until: Date } | null = null): OutboxRecord => ({
    id,
    type: 'request.created',
    channel: 'webhook',
    destination: 'retired',
    requestId: null,
    payload: '{"type":"request.created"}',
    status: 'pending',
    attempts: 1,
    nextAttemptAt: dueAt.toISOString(),
    leaseUntil: lease?.until.toISOString() ?? null,
    leaseOwner: lease?.owner ?? null,
    lastError: null,
    lastStatus: 503,
    createdAt: dueAt.toISOString(),
    updatedAt: dueAt.toISOString(),
    deliveredAt: null,
  });

  beforeAll(async () => {
    await receiver.start();
    hub = new TestHub('postgres', { clock, policy: POLICY, notifiers: { allowPrivateNetworks: true, webhooks: [{ name: 'ops', url: `${receiver.url}/ops`, secret: newWebhookSecret() }] } });
    await hub.start();
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
  });

  it('fails them with the reason once they waited an hour past due, not only at the next restart, and leaves one another hub is sending', async () => {
    const { db } = hub.hub.ctx.store;
    // Written after this hub started (its start-up sweep has run), for a webhook every hub has since dropped.
    await outboxStore.insert(db, [orphan('ntf_orphan', new Date(clock.now().getTime() - 60_000))]);
    clock.advance(2 * 3_600_000);
    await outboxStore.insert(db, [orphan('ntf_sending', new Date(clock.now().getTime() - 2 * 3_600_000), { owner: 'hub_other', until: new Date(clock.now().getTime() + 60_000) })]);
    await hub.hub.dispatcher.runNow();
    expect(await outboxStore.byId(db, 'ntf_orphan')).toMatchObject({ status: 'failed', lastError: 'no webhook of this name is configured any more' });
    expect(await outboxStore.byId(db, 'ntf_sending')).toMatchObject({ status: 'pending' });
  });
});
