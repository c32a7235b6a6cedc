import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, Notification, NotificationPage } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { inTransaction } from '../domain/context.js';
import { enqueueNotifications } from './enqueue.js';
import { toRequestRecord } from '../store/requests.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { newWebhookSecret, WebhookReceiver, type ReceivedWebhook } from '../test-support/webhook-receiver.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    notify: [webhook:bot]
    escalation:
      - { after: 1m, notify: [leads] }
    expireAfter: 2m
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
    notify: [webhook:bot]
  - name: restarts
    match: { action: restart }
    approvers: [sre]
    notify: [webhook:gone]
  - name: db
    match: { action: db-open }
    approvers: [sre]
    notify: [webhook:slow]
  - name: quiet
    match: { action: read-logs }
    approvers: [sre]
`;

const SECOND = 1000;
type Audit = { events: { type: string; requestId: string | null; data: Record<string, unknown> }[] };

/** A clock a little behind real time: webhook timestamps stay within the 5 minutes receivers accept while tests move it forward. */
const clockNearNow = () => new ManualClock(new Date(Date.now() - 60 * SECOND));

describe('webhook notifications', () => {
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  const clock = clockNearNow();
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { logs.push(chunk.toString()); done(); } }));
  let hub: TestHub;
  let alice: TestUser, bob: TestUser, lena: TestUser;

  beforeAll(async () => {
    await receiver.start();
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      logger,
      notifiers: {
        allowPrivateNetworks: true,
        webhooks: [
          { name: 'bot', url: `${receiver.url}/bot?token=path-secret`, secret },
          { name: 'gone', url: `${receiver.url}/gone`, secret },
          { name: 'slow', url: `${receiver.url}/slow`, secret, maxConcurrency: 2 },
        ],
      },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    lena = await hub.createUser('lena', ['lead'], ['leads']);
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
  });

  const dispatcher = () => hub.hub.dispatcher;
  // Deliveries in flight are filed first, so each step of the clock starts from a settled outbox.
  const advance = async (ms: number) => {
    await dispatcher().idle();
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
    await dispatcher().runNow();
  };
  const submit = async (overrides: Parameters<typeof deployRequest>[0] = {}) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest(overrides));
    expect(status).toBe(201);
    return body;
  };
  const arrival = (requestId: string, type: string, path = '/bot') => receiver.arrivals.next((w) => w.path.startsWith(path) && w.body.type === type && w.body.data.id === requestId);
  const notifications = async (status?: string) =>
    (await hub.api<NotificationPage>('GET', `/api/v1/notifications${status ? `?status=${status}` : ''}`, ADMIN_TOKEN)).body.notifications;
  const auditOf = async (type: string) => (await hub.api<Audit>('GET', `/api/v1/audit?type=${type}&limit=1000`, ADMIN_TOKEN)).body.events;
  const verified = (webhook: ReceivedWebhook) => WebhookReceiver.verify(secret, webhook) as ReceivedWebhook['body'];

  it('announces every event of a request, signed so a Standard Webhooks receiver verifies it', async () => {
    const approved = await submit();
    const created = await arrival(approved.id, 'request.created');
    expect(verified(created)).toEqual(created.body);
    expect(created.body.data).toMatchObject({ id: approved.id, status: 'pending', requester: 'alice', action: 'deploy' });
    expect(created.headers['webhook-id']).toMatch(/^ntf_/);

    await advance(60 * SECOND);
    const escalated = verified(await arrival(approved.id, 'request.escalated'));
    expect(escalated.data).toMatchObject({ escalationLevel: 1, eligibleGroups: ['sre', 'leads'] });

    expect((await hub.api('POST', `/api/v1/requests/${approved.id}/decisions`, lena.token, { decision: 'approve' })).status).toBe(200);
    const decided = verified(await arrival(approved.id, 'request.decided'));
    expect(decided.data).toMatchObject({ status: 'approved', decidedBy: 'lena' });
    const issued = verified(await arrival(approved.id, 'grant.issued'));
    const grant = issued.data.grant as Record<string, unknown>;
    expect(grant.status).toBe('active');
    expect(grant).not.toHaveProperty('token');

    expect((await hub.api('POST', `/api/v1/grants/${String(grant.jti)}/revoke`, alice.token)).status).toBe(200);
    const revoked = verified(await arrival(approved.id, 'grant.revoked'));
    expect((revoked.data.grant as Record<string, unknown>).status).toBe('revoked');

    const denied = await submit();
    await hub.api('POST', `/api/v1/requests/${denied.id}/decisions`, bob.token, { decision: 'deny', comment: 'not now' });
    expect(verified(await arrival(denied.id, 'request.decided')).data).toMatchObject({ status: 'denied', decidedBy: 'bob' });

    const cancelled = await submit();
    await hub.api('POST', `/api/v1/requests/${cancelled.id}/cancel`, alice.token);
    expect(verified(await arrival(cancelled.id, 'request.cancelled')).data.status).toBe('cancelled');

    const expired = await submit();
    await arrival(expired.id, 'request.created');
    await advance(120 * SECOND);
    expect(verified(await arrival(expired.id, 'request.expired')).data.status).toBe('expired');

    const auto = await submit({ environment: 'staging' });
    expect(auto.status).toBe('approved');
    expect(verified(await arrival(auto.id, 'request.decided')).data.status).toBe('approved');
    expect((verified(await arrival(auto.id, 'grant.issued')).data.grant as Record<string, unknown>).token).toBeUndefined();

    // Each delivery has its own stable id; nothing arrived twice.
    const ids = receiver.received.filter((w) => w.path.startsWith('/bot')).map((w) => w.id);
    expect(new Set(ids).size).toBe(ids.length);
    // A rule that names no channel writes nothing to the outbox.
    const quiet = await submit({ action: 'read-logs' });
    await dispatcher().idle();
    expect((await notifications()).some((n) => n.requestId === quiet.id)).toBe(false);
  });

  it('retries a receiver that answered 503 with the same webhook-id and body', async () => {
    receiver.reply = (webhook, seenBefore) => (webhook.path.startsWith('/bot') && seenBefore === 0 ? { status: 503 } : { status: 200 });
    try {
      const request = await submit();
      const first = await arrival(request.id, 'request.created');
      await dispatcher().idle();
      const [pending] = (await notifications('pending')).filter((n) => n.requestId === request.id);
      expect(pending).toMatchObject({ attempts: 1, lastStatus: 503, lastError: 'HTTP 503' });
      await advance(6 * SECOND);
      const second = await receiver.arrivals.next((w) => w.id === first.id && w !== first);
      expect(second.raw).toBe(first.raw);
      verified(second);
      await dispatcher().idle();
      const delivered = (await notifications('delivered')).find((n) => n.id === first.id);
      expect(delivered).toMatchObject({ attempts: 2, lastStatus: 200 });
    } finally {
      receiver.reply = () => ({ status: 200 });
    }
  });

  it('waits as long as Retry-After says before trying again', async () => {
    receiver.reply = (webhook, seenBefore) => (webhook.path.startsWith('/bot') && seenBefore === 0 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 });
    try {
      const request = await submit();
      const first = await arrival(request.id, 'request.created');
      await dispatcher().idle();
      const row = (await notifications('pending')).find((n) => n.id === first.id);
      expect(Date.parse(row?.nextAttemptAt ?? '') - clock.now().getTime()).toBeGreaterThanOrEqual(120 * SECOND);
      await advance(30 * SECOND);
      await dispatcher().idle();
      expect(receiver.received.filter((w) => w.id === first.id)).toHaveLength(1);
      await advance(91 * SECOND);
      verified(await receiver.arrivals.next((w) => w.id === first.id && w !== first));
    } finally {
      receiver.reply = () => ({ status: 200 });
    }
  });

  it('a 410 disables the endpoint (audited) until an admin retries one of its notifications', async () => {
    receiver.reply = (webhook) => (webhook.path === '/gone' ? { status: 410 } : { status: 200 });
    const first = await submit({ action: 'restart', resource: 'api' });
    const gone = await arrival(first.id, 'request.created', '/gone');
    await dispatcher().idle();
    const failed = (await notifications('failed')).find((n) => n.id === gone.id);
    expect(failed).toMatchObject({ destination: 'gone', lastStatus: 410 });
    const disabled = (await auditOf('notification.endpoint_disabled')).find((e) => e.data.notification === gone.id);
    expect(disabled?.data).toMatchObject({ webhook: 'gone', status: 410 });

    // Later events for the disabled endpoint are not sent; they wait as failed.
    const second = await submit({ action: 'restart', resource: 'api' });
    await dispatcher().runNow();
    await dispatcher().idle();
    const skipped = (await notifications('failed')).find((n) => n.requestId === second.id);
    expect(skipped?.lastError).toMatch(/disabled/);
    expect(receiver.received.some((w) => w.body.data.id === second.id)).toBe(false);

    receiver.reply = () => ({ status: 200 });
    const retried = await hub.api<Notification>('POST', `/api/v1/notifications/${skipped?.id ?? ''}/retry`, ADMIN_TOKEN);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('pending');
    verified(await arrival(second.id, 'request.created', '/gone'));
    expect((await auditOf('notification.endpoint_enabled')).some((e) => e.data.notification === skipped?.id)).toBe(true);
    expect((await hub.api('POST', `/api/v1/notifications/${skipped?.id ?? ''}/retry`, ADMIN_TOKEN)).status).toBe(409);
  });

  it('dead-letters after the last attempt of the schedule, audited and counted, and can be sent again', async () => {
    receiver.reply = (webhook) => (webhook.path.startsWith('/bot') ? { status: 500 } : { status: 200 });
    const request = await submit();
    const first = await arrival(request.id, 'request.created');
    for (let attempt = 2; attempt <= 10; attempt++) {
      await dispatcher().idle();
      const row = (await notifications('pending')).find((n) => n.id === first.id);
      expect(row?.attempts).toBe(attempt - 1);
      clock.set(row?.nextAttemptAt ?? '');
      await dispatcher().runNow();
      await receiver.arrivals.next((w) => w.id === first.id && receiver.received.filter((r) => r.id === first.id).length === attempt);
    }
    await dispatcher().idle();
    const dead = (await notifications('failed')).find((n) => n.id === first.id);
    expect(dead).toMatchObject({ attempts: 10, lastStatus: 500 });
    expect((await auditOf('notification.dead')).find((e) => e.data.notification === first.id)?.data).toMatchObject({ attempts: 10, destination: 'bot' });
    const metrics = (await hub.api<string>('GET', '/metrics', null)).body;
    expect(metrics).toMatch(/greenlight_notifications_total\{channel="webhook",outcome="dead"\} [1-9]/);
    expect(metrics).toMatch(/greenlight_notifications_total\{channel="webhook",outcome="retry"\} [1-9]/);
    expect(metrics).toMatch(/greenlight_notification_delivery_seconds_count [1-9]/);
    expect(metrics).toMatch(/greenlight_outbox_depth \d/);

    receiver.reply = () => ({ status: 200 });
    clock.set(new Date(Date.now() - 60 * SECOND));
    expect((await hub.api('POST', `/api/v1/notifications/${first.id}/retry`, ADMIN_TOKEN)).status).toBe(200);
    verified(await receiver.arrivals.next((w) => w.id === first.id && receiver.received.filter((r) => r.id === first.id).length === 11));
  });

  it('a slow endpoint holds only its own slots: submissions are answered while its deliveries hang', async () => {
    receiver.reply = (webhook) => (webhook.path === '/slow' ? 'hold' : { status: 200 });
    try {
      const submitted: GreenlightRequest[] = [];
      for (let i = 0; i < 5; i++) submitted.push(await submit({ action: 'db-open', resource: `db-${i}` }));
      await receiver.arrivals.next(() => receiver.heldCount === 2);
      // Every POST /requests was answered with two deliveries still hanging; the endpoint got no more than its two slots.
      expect(submitted).toHaveLength(5);
      expect(receiver.received.filter((w) => w.path === '/slow')).toHaveLength(2);
      // Other endpoints are not held up by it.
      const other = await submit();
      await arrival(other.id, 'request.created');
      receiver.reply = () => ({ status: 200 });
      receiver.release();
      for (const request of submitted) await arrival(request.id, 'request.created', '/slow');
    } finally {
      receiver.reply = () => ({ status: 200 });
      receiver.release();
    }
  });

  it('a delivery that outlasts its lease is sent once: the lease is renewed while it runs', async () => {
    receiver.reply = (webhook) => (webhook.path === '/slow' ? 'hold' : { status: 200 });
    try {
      const request = await submit({ action: 'db-open', resource: 'db-long' });
      await arrival(request.id, 'request.created', '/slow');
      // The receiver takes its time: well past the 60 s lease, with the dispatcher looking again meanwhile.
      for (let i = 0; i < 4; i++) {
        clock.advance(30 * SECOND);
        await dispatcher().runNow();
      }
      receiver.reply = () => ({ status: 200 });
      receiver.release();
      await dispatcher().idle();
      expect(receiver.received.filter((w) => w.path === '/slow' && w.body.data.id === request.id)).toHaveLength(1);
      expect((await notifications()).find((n) => n.requestId === request.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    } finally {
      receiver.reply = () => ({ status: 200 });
      receiver.release();
    }
  });

  it('a transaction that fails hands back the slots its rows had reserved, and leaves nothing to send', async () => {
    const request = await submit({ action: 'db-open', resource: 'db-rollback' });
    await arrival(request.id, 'request.created', '/slow');
    await dispatcher().idle();
    const { ctx } = hub.hub;
    const row = toRequestRecord(await ctx.store.db.selectFrom('requests').selectAll().where('id', '=', request.id).executeTakeFirstOrThrow());
    for (let i = 0; i < 5; i++) {
      await expect(
        inTransaction(ctx, async (trx) => {
          await enqueueNotifications(ctx, trx, 'request.created', row);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
    }
    // Both of the endpoint's slots are free again.
    expect(dispatcher().reserve('webhook:slow')).not.toBeNull();
    expect(dispatcher().reserve('webhook:slow')).not.toBeNull();
    expect(dispatcher().reserve('webhook:slow')).toBeNull();
    dispatcher().release('slow');
    dispatcher().release('slow');
    expect((await notifications()).filter((n) => n.requestId === request.id)).toHaveLength(1);
  });

  it('never lets a secret into logs, audit events, API answers or /metrics', async () => {
    await dispatcher().idle();
    const key = secret.slice('whsec_'.length);
    const everything = [
      logs.join(''),
      JSON.stringify((await hub.api('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN)).body),
      JSON.stringify(await notifications()),
      String((await hub.api('GET', '/metrics', null)).body),
    ].join('\n');
    expect(everything).not.toContain(key);
    expect(everything).not.toContain('path-secret');
    expect(logs.join('')).toContain('notification not delivered; will retry');
  });

  it('lists and retries for admins only, with checked input', async () => {
    expect((await hub.api('GET', '/api/v1/notifications', bob.token)).status).toBe(403);
    expect((await hub.api('GET', '/api/v1/notifications?status=lost', ADMIN_TOKEN)).status).toBe(400);
    expect((await hub.api('POST', '/api/v1/notifications/nope/retry', ADMIN_TOKEN)).status).toBe(400);
    expect((await hub.api('POST', '/api/v1/notifications/ntf_0000/retry', ADMIN_TOKEN)).status).toBe(404);
    expect((await hub.api('POST', '/api/v1/notifications/ntf_0000/retry', bob.token)).status).toBe(403);
  });
});

describe('webhook endpoints on private networks', () => {
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  let hub: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await receiver.start();
    const port = new URL(receiver.url).port;
    hub = new TestHub('sqlite', {
      policy: `
rules:
  - name: literal
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:literal]
  - name: named
    match: { action: restart }
    approvers: [sre]
    notify: [webhook:named]
`,
      notifiers: {
        webhooks: [
          { name: 'literal', url: `${receiver.url}/literal`, secret },
          { name: 'named', url: `http://localhost:${port}/named`, secret },
        ],
      },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    // Someone can approve, or the hub would refuse the requests (NO_APPROVERS) and announce nothing.
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
  });

  it('are refused at connect time, by address literal and by what a name resolves to, unless allowPrivateNetworks', async () => {
    for (const action of ['deploy', 'restart']) {
      const { body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action }));
      await hub.hub.dispatcher.idle();
      const page = (await hub.api<NotificationPage>('GET', '/api/v1/notifications?status=failed', ADMIN_TOKEN)).body;
      const row = page.notifications.find((n) => n.requestId === body.id);
      expect(row?.lastError).toMatch(/\((loopback)\).*allowPrivateNetworks/);
      expect(row?.attempts).toBe(1);
    }
    expect(receiver.received).toHaveLength(0);
    const dead = (await hub.api<Audit>('GET', '/api/v1/audit?type=notification.dead', ADMIN_TOKEN)).body.events;
    expect(dead).toHaveLength(2);
  });
});

describe('secret rotation', () => {
  const receiver = new WebhookReceiver();
  const current = newWebhookSecret();
  const next = newWebhookSecret();
  let hub: TestHub;

  beforeAll(async () => {
    await receiver.start();
    process.env.GREENLIGHT_TEST_NEXT_SECRET = next;
    hub = new TestHub('sqlite', {
      policy: 'rules:\n  - { name: all, approvers: [sre], notify: [webhook:bot] }\n',
      notifiers: { allowPrivateNetworks: true, webhooks: [{ name: 'bot', url: receiver.url, secret: [current, 'env:GREENLIGHT_TEST_NEXT_SECRET'], events: ['request.created'] }] },
    });
    await hub.start();
  });
  afterAll(async () => {
    delete process.env.GREENLIGHT_TEST_NEXT_SECRET;
    await hub.dispose();
    await receiver.close();
  });

  it('signs with both secrets while rotating, so a receiver with either verifies', async () => {
    const alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    const { body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    const webhook = await receiver.arrivals.next((w) => w.body.data.id === body.id);
    expect(String(webhook.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => WebhookReceiver.verify(current, webhook)).not.toThrow();
    expect(() => WebhookReceiver.verify(next, webhook)).not.toThrow();
    expect(() => WebhookReceiver.verify(newWebhookSecret(), webhook)).toThrow();
    // The event filter: this webhook asked for created only, so a cancellation is not sent to it.
    await hub.api('POST', `/api/v1/requests/${body.id}/cancel`, alice.token);
    await hub.hub.dispatcher.idle();
    expect(receiver.received.map((w) => w.body.type)).toEqual(['request.created']);
  });
});
