import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [email]
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 4h, reviewers: [security] }
  - name: pair
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    notify: [email]
`;

const SMTP_PASSWORD = 'smtp-password-for-the-still-due-test-7h2q';
type Audit = { events: { type: string; requestId: string | null }[] };

describe('an email that waited for the SMTP server is sent only if it still has something to ask', () => {
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: SMTP_PASSWORD });
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let alice: TestUser, bob: TestUser, dave: TestUser, sue: TestUser;

  beforeAll(async () => {
    await smtp.start();
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      publicUrl: 'http://greenlight.test.example',
      notifiers: { email: smtp.emailNotifier('GREENLIGHT_TEST_STILL_DUE_SMTP_PASSWORD') },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester'], ['sre'], { email: 'alice@example.com' });
    bob = await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    await hub.createUser('carol', ['approver'], ['sre'], { email: 'carol@example.com' });
    dave = await hub.createUser('dave', ['requester'], ['oncall'], { email: 'dave@example.com' });
    sue = await hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
  });
  afterAll(async () => {
    await hub.dispose();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_STILL_DUE_SMTP_PASSWORD;
  });

  const dispatcher = () => hub.hub.dispatcher;
  const advance = async (ms: number) => {
    await dispatcher().idle();
    clock.advance(ms);
    await dispatcher().runNow();
    await dispatcher().idle();
  };
  const submit = async (who: TestUser, overrides: Parameters<typeof deployRequest>[0] = {}) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', who.token, deployRequest({ risk: 'medium', ...overrides }));
    expect(status).toBe(201);
    await dispatcher().idle();
    return body;
  };
  const mailedAbout = (address: string, requestId: string) => smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === requestId);
  const rowsOf = async (requestId: string) => (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body.notifications.filter((n) => n.requestId === requestId && n.channel === 'email');
  const deadLettered = async (requestId: string) => (await hub.api<Audit>('GET', '/api/v1/audit?type=notification.dead&limit=1000', ADMIN_TOKEN)).body.events.filter((event) => event.requestId === requestId);
  /** The SMTP server is away while `during` runs, and back afterwards. */
  const whileSmtpIsDown = async (during: () => Promise<void>) => {
    await smtp.stop();
    try {
      await during();
    } finally {
      await smtp.start();
    }
  };

  it('does not ask anyone to decide a request decided while the SMTP server was down, and says why without retrying', async () => {
    let request!: GreenlightRequest;
    await whileSmtpIsDown(async () => {
      request = await submit(alice);
      expect((await rowsOf(request.id)).map((row) => row.status)).toEqual(['pending', 'pending']);
      expect((await hub.api('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' })).status).toBe(200);
    });
    await advance(6000);
    expect(mailedAbout('bob@example.com', request.id)).toHaveLength(0);
    expect(mailedAbout('carol@example.com', request.id)).toHaveLength(0);
    for (const row of await rowsOf(request.id)) {
      expect(row).toMatchObject({ status: 'failed', nextAttemptAt: null, lastError: 'not sent: the request was approved before this email could go out' });
    }
    await advance(24 * 3_600_000);
    expect(mailedAbout('carol@example.com', request.id)).toHaveLength(0);
    expect(await deadLettered(request.id)).toEqual([]);
    expect(String((await hub.api('GET', '/metrics', null)).body)).toMatch(/greenlight_notifications_total\{channel="email",outcome="skipped"\} [1-9]/);
  });

  it('does not send again, on an admin retry, a message about a request decided since', async () => {
    smtp.unknownMailboxes.add('carol@example.com');
    let request!: GreenlightRequest;
    try {
      request = await submit(alice);
    } finally {
      smtp.unknownMailboxes.clear();
    }
    const carols = async () => (await rowsOf(request.id)).find((row) => row.destination === 'carol');
    expect(await carols()).toMatchObject({ status: 'failed', lastStatus: 550 });
    expect((await hub.api('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'deny', comment: 'not today' })).status).toBe(200);
    expect((await hub.api('POST', `/api/v1/notifications/${(await carols())?.id ?? ''}/retry`, ADMIN_TOKEN)).status).toBe(200);
    await dispatcher().idle();
    expect(mailedAbout('carol@example.com', request.id)).toHaveLength(0);
    expect(await carols()).toMatchObject({ status: 'failed', lastError: 'not sent: the request was denied before this email could go out' });
  });

  it('sends nothing to someone disabled since, or to an address they no longer have; once enabled again they hear of new requests', async () => {
    let request!: GreenlightRequest;
    await whileSmtpIsDown(async () => {
      request = await submit(alice);
      expect((await hub.api('POST', '/api/v1/users/carol/disable', ADMIN_TOKEN)).status).toBe(200);
      expect((await hub.api('PATCH', '/api/v1/users/bob', ADMIN_TOKEN, { email: 'bob@new.example.com' })).status).toBe(200);
    });
    try {
      await advance(6000);
      expect(mailedAbout('carol@example.com', request.id)).toHaveLength(0);
      expect(mailedAbout('bob@example.com', request.id)).toHaveLength(0);
      const rows = await rowsOf(request.id);
      expect(rows.find((row) => row.destination === 'carol')).toMatchObject({ status: 'failed', lastError: 'not sent: carol was disabled before this email could go out' });
      expect(rows.find((row) => row.destination === 'bob')).toMatchObject({ status: 'failed', lastError: "not sent: bob's email address changed before this email could go out" });
    } finally {
      await hub.api('POST', '/api/v1/users/carol/enable', ADMIN_TOKEN);
      await hub.api('PATCH', '/api/v1/users/bob', ADMIN_TOKEN, { email: 'bob@example.com' });
    }
    const next = await submit(alice);
    expect(mailedAbout('carol@example.com', next.id)).toHaveLength(1);
  });

  it('does not ask someone who voted since, or who was moved out of the approvers since, though the request still waits', async () => {
    let request!: GreenlightRequest;
    await whileSmtpIsDown(async () => {
      request = await submit(alice, { action: 'migrate' });
      expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' })).body.status).toBe('pending');
      expect((await hub.api('PATCH', '/api/v1/users/carol', ADMIN_TOKEN, { groups: ['devs'] })).status).toBe(200);
    });
    try {
      await advance(6000);
      expect(mailedAbout('bob@example.com', request.id)).toHaveLength(0);
      expect(mailedAbout('carol@example.com', request.id)).toHaveLength(0);
      const rows = await rowsOf(request.id);
      expect(rows.find((row) => row.destination === 'bob')).toMatchObject({ status: 'failed', lastError: 'not sent: bob voted before this email could go out' });
      expect(rows.find((row) => row.destination === 'carol')).toMatchObject({ status: 'failed', lastError: 'not sent: carol could no longer decide this request before this email could go out' });
    } finally {
      await hub.api('PATCH', '/api/v1/users/carol', ADMIN_TOKEN, { groups: ['sre'] });
    }
  });

  it('does not ask a delegate to decide for someone who has since voted themselves', async () => {
    const endsAt = new Date(clock.now().getTime() + 86_400_000).toISOString();
    const delegation = await hub.api<{ id: string }>('POST', '/api/v1/delegations', bob.token, { to: 'sue', endsAt, reason: 'half-day off' });
    expect(delegation.status).toBe(201);
    let request!: GreenlightRequest;
    try {
      await whileSmtpIsDown(async () => {
        request = await submit(alice, { action: 'migrate' });
        expect((await rowsOf(request.id)).map((row) => row.destination).sort()).toEqual(['bob', 'carol', 'sue']);
        expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' })).body.status).toBe('pending');
      });
      await advance(6000);
      expect(mailedAbout('sue@example.com', request.id)).toHaveLength(0);
      expect(mailedAbout('carol@example.com', request.id)).toHaveLength(1);
      expect((await rowsOf(request.id)).find((row) => row.destination === 'sue')).toMatchObject({ status: 'failed', lastError: 'not sent: sue could no longer decide this request before this email could go out' });
    } finally {
      await hub.api('DELETE', `/api/v1/delegations/${delegation.body.id}`, bob.token);
    }
  });

  it('still sends a break-glass alert that waited for the SMTP server, though the request it tells of is approved', async () => {
    let used!: GreenlightRequest;
    await whileSmtpIsDown(async () => {
      const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ reason: 'database is down, customers cannot pay', breakGlass: { incident: 'INC-9' } }));
      expect(status, JSON.stringify(body)).toBe(201);
      used = body;
      await dispatcher().idle();
      expect(used.status).toBe('approved');
    });
    await advance(6000);
    for (const address of ['bob@example.com', 'carol@example.com', 'sue@example.com']) {
      expect(mailedAbout(address, used.id).map((received) => received.mail.subject), address).toEqual([expect.stringContaining('[Greenlight] URGENT: Break-glass by dave')]);
    }
  });

  // Last: it moves the clock a day on.
  it('does not chase, once the SMTP server is back, a break-glass review made while it was down, naming who reviewed it for whom', async () => {
    const olga = await hub.createUser('olga', ['requester'], ['oncall'], { email: 'olga@example.com' });
    // Dana reviews nothing of her own: she reviews for sue, as her delegate.
    const dana = await hub.createUser('dana', ['approver'], ['devs']);
    const endsAt = new Date(clock.now().getTime() + 7 * 86_400_000).toISOString();
    expect((await hub.api('POST', '/api/v1/delegations', sue.token, { to: 'dana', endsAt, reason: 'holiday' })).status).toBe(201);
    const { status, body: used } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', olga.token, deployRequest({ reason: 'queue is stuck, orders are not shipping', breakGlass: { incident: 'INC-10' } }));
    expect(status).toBe(201);
    await dispatcher().idle();
    const overdueRows = async () => (await rowsOf(used.id)).filter((row) => row.type === 'request.break_glass_overdue');
    await whileSmtpIsDown(async () => {
      await dispatcher().idle();
      clock.advance(24 * 3_600_000);
      await hub.hub.scheduler.runNow();
      await dispatcher().idle();
      expect((await overdueRows()).map((row) => row.destination)).toEqual(['sue']);
      const reviewed = await hub.api('POST', `/api/v1/requests/${used.id}/review`, dana.token, { outcome: 'ratified', comment: 'checked with the incident lead' });
      expect(reviewed.status).toBe(200);
    });
    await advance(6000);
    expect(mailedAbout('sue@example.com', used.id).filter((received) => received.mail.subject?.includes('review overdue'))).toEqual([]);
    expect(await overdueRows()).toMatchObject([{ status: 'failed', nextAttemptAt: null, lastError: 'not sent: the break-glass was ratified by dana for sue before this email could go out' }]);
  });
});
