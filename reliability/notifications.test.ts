import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from '../server/clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub } from '../server/test-support/hub-fixture.js';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { createTestDatabase, postgresAvailability } from '../server/test-support/postgres.js';
import { newWebhookSecret, WebhookReceiver, type ReceivedWebhook } from '../server/test-support/webhook-receiver.js';
import { call, eventually } from './support.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:bot]
    # alice alone sends every submission of these tests.
    maxPending: 1000
`;

/** The hub configuration's notifier section, with the secret left in the environment where operators keep it. */
function writeNotifiers(dir: string, receiverUrl: string): string {
  const file = path.join(dir, 'notifiers.yaml');
  writeFileSync(file, `notifiers:\n  allowPrivateNetworks: true\n  webhooks:\n    - name: bot\n      url: ${receiverUrl}/hooks\n      secret: env:BOT_WEBHOOK_SECRET\n`);
  return file;
}

/** Every request the hub holds, through the admin's paged list. */
async function allRequestIds(url: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { requests: GreenlightRequest[]; nextCursor: string | null } } = await call(url, 'GET', `/api/v1/requests?limit=100${cursor ? `&cursor=${cursor}` : ''}`, ADMIN_TOKEN);
    ids.push(...page.body.requests.map((request) => request.id));
    cursor = page.body.nextCursor;
  } while (cursor);
  return ids;
}

/** The created-webhooks that arrived, by request id; every one must verify. */
function createdByRequest(receiver: WebhookReceiver, secret: string): Map<string, ReceivedWebhook[]> {
  const byRequest = new Map<string, ReceivedWebhook[]>();
  for (const webhook of receiver.received) {
    WebhookReceiver.verify(secret, webhook);
    if (webhook.body.type !== 'request.created') continue;
    byRequest.set(webhook.body.data.id, [...(byRequest.get(webhook.body.data.id) ?? []), webhook]);
  }
  return byRequest;
}

describe('notifications across a hub SIGKILLed mid-stream', () => {
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  const data = new HubDataDir(POLICY);
  let hub: HubProcess;

  beforeAll(async () => {
    await receiver.start();
    const notifiers = writeNotifiers(data.path, receiver.url);
    hub = new HubProcess([...data.args, '--rate-limit', '1000000'], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_CONFIG: notifiers, BOT_WEBHOOK_SECRET: secret });
  });
  afterAll(async () => {
    await hub.kill();
    await receiver.close();
    data.remove();
  });

  it('delivers the event of every committed submission at least once, each under one stable webhook-id', async () => {
    await hub.start();
    const alice = await call<{ token: string }>(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] });
    // Someone can approve, or the hub would refuse the requests (NO_APPROVERS) and announce nothing.
    await call(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'] });
    const token = alice.body.token;
    const TOTAL = 200;
    const acknowledged = new Set<number>();
    let killed: Promise<void> | null = null;

    // Ten pipelines submit; once half are acknowledged the hub is killed with the rest in flight, and
    // each pipeline retries (same idempotency key) until the restarted hub answers.
    let next = 0;
    const pipeline = async () => {
      for (let n = next++; n < TOTAL; n = next++) {
        for (;;) {
          if (killed) await killed;
          const reply = await call<GreenlightRequest>(hub.url, 'POST', '/api/v1/requests', token, deployRequest({ idempotencyKey: `kill-${n}`, resource: `svc-${n}` })).catch(() => null);
          if (reply?.status === 201 || reply?.status === 200) break;
        }
        acknowledged.add(n);
        if (acknowledged.size === TOTAL / 2 && !killed) {
          killed = (async () => {
            await hub.kill();
            await hub.start();
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, pipeline));
    expect(acknowledged.size).toBe(TOTAL);

    // Everything committed, whether or not its submitter heard back before the kill, is announced.
    const ids = await allRequestIds(hub.url);
    expect(ids).toHaveLength(TOTAL);
    const delivered = await eventually(async () => {
      const byRequest = createdByRequest(receiver, secret);
      return ids.every((id) => byRequest.has(id)) ? byRequest : undefined;
    }, { what: `request.created for all ${TOTAL} requests`, deadline: 60_000 });
    for (const id of ids) expect(new Set(delivered.get(id)?.map((w) => w.id)).size, id).toBe(1);
  });
});

const pg = await postgresAvailability();

describe.skipIf(!pg.ok)(`notifications from two hubs on one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  const data = new HubDataDir(POLICY);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hubs: HubProcess[] = [];

  beforeAll(async () => {
    await receiver.start();
    database = await createTestDatabase();
    const notifiers = writeNotifiers(data.path, receiver.url);
    const args = ['--database-url', database.url, '--policy', data.policyFile ?? '', '--rate-limit', '1000000'];
    hubs = [0, 1].map(() => new HubProcess(args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_CONFIG: notifiers, BOT_WEBHOOK_SECRET: secret }));
    await Promise.all(hubs.map((hub) => hub.start()));
  });
  afterAll(async () => {
    await Promise.all(hubs.map((hub) => hub.stop()));
    await receiver.close();
    await database?.drop();
    data.remove();
  });

  it('delivers each event once while both hubs live', async () => {
    const [a, b] = hubs as [HubProcess, HubProcess];
    const alice = await call<{ token: string }>(a.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] });
    // Someone can approve, or the hub would refuse the requests (NO_APPROVERS) and announce nothing.
    await call(a.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'] });
    const token = alice.body.token;
    const submitted = await Promise.all(
      Array.from({ length: 100 }, async (_, n) => {
        const reply = await call<GreenlightRequest>((n % 2 ? a : b).url, 'POST', '/api/v1/requests', token, deployRequest({ resource: `svc-${n}` }));
        expect(reply.status).toBe(201);
        return reply.body.id;
      }),
    );
    // Cancelling on the other hub than the one that took the request: its event, too, goes out once.
    await Promise.all(submitted.slice(0, 20).map((id, n) => call((n % 2 ? b : a).url, 'POST', `/api/v1/requests/${id}/cancel`, token)));
    const expected = submitted.length + 20;
    await eventually(async () => (receiver.received.length >= expected ? true : undefined), { what: `${expected} webhooks`, deadline: 60_000 });
    // Both hubs keep polling the outbox; a second look finds nothing left to send.
    await eventually(async () => {
      const page = await call<{ notifications: unknown[] }>(a.url, 'GET', '/api/v1/notifications?status=pending', ADMIN_TOKEN);
      return page.body.notifications.length === 0 ? true : undefined;
    }, { what: 'an empty outbox' });
    const ids = receiver.received.map((webhook) => webhook.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(expected);
    const byRequest = createdByRequest(receiver, secret);
    for (const id of submitted) expect(byRequest.get(id)).toHaveLength(1);
  });
});

describe.skipIf(!pg.ok)(`a PostgreSQL hub SIGKILLed mid-delivery${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  const data = new HubDataDir(POLICY);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dying: HubProcess;
  let survivor: TestHub | null = null;

  beforeAll(async () => {
    await receiver.start();
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await dying.kill();
    await survivor?.dispose();
    await receiver.close();
    await database?.drop();
    data.remove();
  });

  it('leaves the rows it was delivering to another hub once their lease has run out, not before', async () => {
    const notifiers = writeNotifiers(data.path, receiver.url);
    dying = new HubProcess(['--database-url', database.url, '--policy', data.policyFile ?? ''], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_CONFIG: notifiers, BOT_WEBHOOK_SECRET: secret });
    await dying.start();
    const alice = await call<{ token: string }>(dying.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] });
    // Someone can approve, or the hub would refuse the requests (NO_APPROVERS) and announce nothing.
    await call(dying.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'] });
    // The receiver holds the first hub's four deliveries (its maxConcurrency) open, so it dies with all four leased.
    receiver.reply = () => 'hold';
    for (let n = 0; n < 4; n++) await call(dying.url, 'POST', '/api/v1/requests', alice.body.token, deployRequest({ resource: `svc-${n}` }));
    await receiver.arrivals.next(() => receiver.heldCount === 4);
    const inFlight = new Set(receiver.received.map((webhook) => webhook.id));
    await dying.kill();
    receiver.reply = () => ({ status: 200 });

    // Another hub, whose clock we move: within the 60 s lease it leaves the rows alone.
    const clock = new ManualClock(new Date(Date.now() + 30_000));
    survivor = new TestHub('postgres', { policy: POLICY, clock, notifiers: { allowPrivateNetworks: true, webhooks: [{ name: 'bot', url: `${receiver.url}/hooks`, secret }] } });
    survivor.databaseUrl = database.url;
    await survivor.start();
    await survivor.hub.dispatcher.runNow();
    await survivor.hub.dispatcher.idle();
    expect(receiver.received).toHaveLength(4);

    // Past the lease it sends them, under the ids they had.
    clock.advance(31_000);
    await survivor.hub.dispatcher.runNow();
    await eventually(async () => (receiver.received.length === 8 ? true : undefined), { what: 'the four deliveries again' });
    const again = receiver.received.slice(4);
    for (const webhook of again) WebhookReceiver.verify(secret, webhook);
    expect(new Set(again.map((webhook) => webhook.id))).toEqual(inFlight);
    await survivor.hub.dispatcher.idle();
    const pending = await call<{ notifications: unknown[] }>(survivor.url, 'GET', '/api/v1/notifications?status=pending', ADMIN_TOKEN);
    expect(pending.body.notifications).toHaveLength(0);
  });
});
