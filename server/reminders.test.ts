import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EscalatedPayload, GrantExpiringPayload, GreenlightRequest, RemindedPayload } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { newWebhookSecret, WebhookReceiver } from './test-support/webhook-receiver.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    minApprovals: 2
    remind: 15m
    notify: [webhook:bot]
    claimHolds: 20m
  - name: paging
    match: { action: restart }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
      - { after: 10m, notify: [managers] }
    repeat: 2
    expireAfter: 2h
  - name: self-service
    match: { action: db-open }
    autoApprove: true
    grantTtl: 30m
    notify: [webhook:bot]
  - name: short
    match: { action: flush-cache }
    autoApprove: true
    grantTtl: 5m
`;

const MINUTE = 60_000;
const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('reminders and repeating escalation on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  // Behind real time, so webhook timestamps stay within what receivers accept as the test moves the clock on.
  const clock = new ManualClock(new Date(Date.now() - 10 * MINUTE));
  let hub: TestHub;
  let alice: TestUser, bob: TestUser, sam: TestUser, lena: TestUser, max: TestUser;

  beforeAll(async () => {
    await receiver.start();
    hub = new TestHub(kind, { policy: POLICY, clock, notifiers: { allowPrivateNetworks: true, webhooks: [{ name: 'bot', url: receiver.url, secret }] } });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    sam = await hub.createUser('sam', ['approver'], ['sre']);
    lena = await hub.createUser('lena', ['lead'], ['leads']);
    max = await hub.createUser('max', ['lead'], ['managers']);
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
  });

  const advance = async (ms: number) => {
    await hub.hub.dispatcher.idle();
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const submit = async (action: string) => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action }))).body;
  /** Oldest first (the API answers newest first). */
  const auditOf = async (id: string, type: string) =>
    (await hub.api<{ events: { requestId: string; data: Record<string, unknown> }[] }>('GET', `/api/v1/audit?type=${type}&limit=1000`, ADMIN_TOKEN)).body.events.filter((e) => e.requestId === id).reverse();

  it('reminds approvers who have not acted, on time and once, until the request is decided', async () => {
    const bobClient = await hub.connect(bob);
    const samClient = await hub.connect(sam);
    const bobReminded = collect<RemindedPayload>((l) => bobClient.on('request:reminded', l));
    const samReminded = collect<RemindedPayload>((l) => samClient.on('request:reminded', l));
    const request = await submit('deploy');

    await advance(15 * MINUTE - 1000);
    expect(await auditOf(request.id, 'request.reminded')).toHaveLength(0);
    await advance(1000);
    const first = await samReminded.next((p) => p.request.id === request.id);
    expect(first.reminder).toBe(1);
    await bobReminded.next((p) => p.request.id === request.id && p.reminder === 1);
    const webhook = await receiver.arrivals.next((w) => w.body.type === 'request.reminded' && w.body.data.id === request.id);
    expect(WebhookReceiver.verify(secret, webhook)).toMatchObject({ type: 'request.reminded', data: { status: 'pending' } });

    // Bob votes (one of two approvals): the next reminder is for sam alone.
    await hub.api('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' });
    await advance(15 * MINUTE);
    expect((await samReminded.next((p) => p.request.id === request.id && p.reminder === 2)).reminder).toBe(2);
    expect(bobReminded.items.filter((p) => p.request.id === request.id).map((p) => p.reminder)).toEqual([1]);
    expect((await auditOf(request.id, 'request.reminded')).map((e) => e.data.reminder)).toEqual([1, 2]);

    await hub.api('POST', `/api/v1/requests/${request.id}/decisions`, sam.token, { decision: 'approve' });
    await advance(60 * MINUTE);
    expect(await auditOf(request.id, 'request.reminded')).toHaveLength(2);
    const timeline = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.timeline;
    expect(timeline.filter((entry) => entry.type === 'request.reminded').map((entry) => entry.detail)).toEqual(['reminder 1', 'reminder 2']);
  });

  it('skips reminders while someone holds a claim', async () => {
    const request = await submit('deploy');
    expect((await hub.api('POST', `/api/v1/requests/${request.id}/claim`, bob.token)).status).toBe(200);
    await advance(15 * MINUTE);
    expect(await auditOf(request.id, 'request.reminded')).toHaveLength(0);
    await advance(15 * MINUTE);
    expect((await auditOf(request.id, 'request.reminded')).map((e) => e.data.reminder)).toEqual([1]);
    await hub.api('POST', `/api/v1/requests/${request.id}/cancel`, alice.token);
  });

  it('a reminder missed while the hub was down fires once after the restart, and the next counts from then', async () => {
    const request = await submit('deploy');
    await hub.stop();
    clock.advance(50 * MINUTE);
    await hub.start();
    expect((await auditOf(request.id, 'request.reminded')).map((e) => e.data.reminder)).toEqual([1]);
    await advance(15 * MINUTE - 1000);
    expect(await auditOf(request.id, 'request.reminded')).toHaveLength(1);
    await advance(1000);
    expect((await auditOf(request.id, 'request.reminded')).map((e) => e.data.reminder)).toEqual([1, 2]);
    await hub.api('POST', `/api/v1/requests/${request.id}/cancel`, alice.token);
  });

  it('runs the escalation chain again after its last step, at most `repeat` more times, each step once', async () => {
    const lenaClient = await hub.connect(lena);
    const maxClient = await hub.connect(max);
    const lenaEscalated = collect<EscalatedPayload>((l) => lenaClient.on('request:escalated', l));
    const maxEscalated = collect<EscalatedPayload>((l) => maxClient.on('request:escalated', l));
    const request = await submit('restart');
    const mine = (p: EscalatedPayload) => p.request.id === request.id;

    await advance(5 * MINUTE);
    await lenaEscalated.next(mine);
    await advance(5 * MINUTE);
    const lastOfFirstRun = await maxEscalated.next(mine);
    // After the last step comes the next run's first, the chain's own spacing later.
    expect(lastOfFirstRun.request.nextEscalationAt).toBe(new Date(Date.parse(request.createdAt) + 15 * MINUTE).toISOString());

    await advance(5 * MINUTE);
    const again = await lenaEscalated.next((p) => mine(p) && lenaEscalated.items.filter(mine).length === 2);
    expect(again.step).toBe(1);

    // The hub is down across the rest of the second run and the start of the third: each missed step fires once, in order.
    await hub.stop();
    clock.advance(11 * MINUTE);
    await hub.start();
    const repeats = await auditOf(request.id, 'request.escalation_repeated');
    expect(repeats.map((e) => e.data.run)).toEqual([2, 3]);
    const escalations = await auditOf(request.id, 'request.escalated');
    expect(escalations.map((e) => [e.data.run ?? 1, e.data.step])).toEqual([[1, 1], [1, 2], [2, 1], [2, 2], [3, 1]]);

    await advance(5 * MINUTE);
    expect(await auditOf(request.id, 'request.escalated')).toHaveLength(6);
    const view = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body;
    expect(view.nextEscalationAt).toBeNull();
    await advance(30 * MINUTE);
    expect(await auditOf(request.id, 'request.escalated')).toHaveLength(6);
    expect(await auditOf(request.id, 'request.escalation_repeated')).toHaveLength(2);
    expect(maxEscalated.items.filter(mine).length).toBeGreaterThanOrEqual(1);
  });

  it('tells the requester ten minutes before an unused grant ends, once, and not for a used or short one', async () => {
    // Back near real time: the notice's webhook is checked by a receiver that accepts 5 minutes of skew.
    clock.set(new Date(Date.now() - 22 * MINUTE));
    const aliceClient = await hub.connect(alice);
    const expiring = collect<GrantExpiringPayload>((l) => aliceClient.on('grant:expiring', l));
    const unused = await submit('db-open');
    const used = await submit('db-open');
    const short = await submit('flush-cache');
    expect([unused.status, used.status, short.status]).toEqual(['approved', 'approved', 'approved']);
    expect((await hub.api('POST', '/api/v1/grants/redeem', null, { token: used.grant?.token })).status).toBe(200);

    await advance(20 * MINUTE - 1000);
    expect(await auditOf(unused.id, 'grant.expiring')).toHaveLength(0);
    await advance(1000);
    const notice = await expiring.next((p) => p.request.id === unused.id);
    expect(notice.expiresAt).toBe(unused.grant?.expiresAt);
    const webhook = await receiver.arrivals.next((w) => w.body.type === 'grant.expiring' && w.body.data.id === unused.id);
    const verified = WebhookReceiver.verify(secret, webhook) as { data: { grant: Record<string, unknown> } };
    expect(verified.data.grant).toMatchObject({ status: 'active', expiresAt: unused.grant?.expiresAt });
    expect(verified.data.grant).not.toHaveProperty('token');

    await advance(15 * MINUTE);
    expect(await auditOf(unused.id, 'grant.expiring')).toHaveLength(1);
    expect(await auditOf(used.id, 'grant.expiring')).toHaveLength(0);
    expect(await auditOf(short.id, 'grant.expiring')).toHaveLength(0);
    expect(expiring.items.map((p) => p.request.id)).toEqual([unused.id]);
  });
});
