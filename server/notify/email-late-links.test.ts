import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from '../test-support/hub-fixture.js';
import { postgresAvailability } from '../test-support/postgres.js';
import { linkIn, SmtpReceiver, type ReceivedMail } from '../test-support/smtp-receiver.js';
import { emailPayloadSchema } from './email-payload.js';
import { whyNoLongerDue } from './email-still-due.js';

const POLICY = `
rules:
  - name: pair
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    notify: [email]
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [email]
    expireAfter: 3d
`;

const HOUR = 3_600_000;
const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('an email that goes out late carries Approve and Deny links that work, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: 'smtp-password-for-the-late-links-test-8c1v' });
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await smtp.start();
    hub = new TestHub(kind, {
      policy: POLICY,
      clock,
      publicUrl: 'http://greenlight.test.example',
      notifiers: { email: smtp.emailNotifier('GREENLIGHT_TEST_LATE_LINKS_SMTP_PASSWORD') },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester'], [], { email: 'alice@example.com' });
    await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    await hub.createUser('carol', ['approver'], ['sre'], { email: 'carol@example.com' });
  });
  afterAll(async () => {
    await hub.dispose();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_LATE_LINKS_SMTP_PASSWORD;
  });

  const dispatcher = () => hub.hub.dispatcher;
  const advance = async (ms: number) => {
    await dispatcher().idle();
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
    await dispatcher().runNow();
    await dispatcher().idle();
  };
  const submit = async (action: string) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action, risk: 'medium' }));
    expect(status).toBe(201);
    await dispatcher().idle();
    return body;
  };
  const mailFor = (address: string, requestId: string): ReceivedMail => {
    const found = smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === requestId);
    expect(found, `one message to ${address}`).toHaveLength(1);
    return found[0]!;
  };
  const page = async (url: string, method: 'GET' | 'POST' = 'GET') => {
    const response = await fetch(url.replace('http://greenlight.test.example', hub.url), {
      method,
      ...(method === 'POST' ? { body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
    });
    return { status: response.status, html: await response.text() };
  };
  const statusOf = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token)).body.status;
  const rowsOf = async (requestId: string) => (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body.notifications.filter((n) => n.requestId === requestId);

  it('after a day-long SMTP outage, the buttons of the mail that finally arrives decide, for a day from its arrival', async () => {
    await smtp.stop();
    let request!: GreenlightRequest;
    try {
      request = await submit('migrate');
      await advance(6000);
      // Still down more than a day after the links were made.
      await advance(26 * HOUR);
      expect(smtp.received.filter((received) => received.mail.headers.get('x-greenlight-request') === request.id)).toEqual([]);
    } finally {
      await smtp.start();
    }
    await advance(HOUR);
    const bobs = mailFor('bob@example.com', request.id).mail;
    expect(bobs.subject).toContain('waits for your decision');
    const opened = await page(linkIn(bobs, 'Approve'));
    expect(opened.status).toBe(200);
    expect(opened.html).not.toContain('This link has expired');
    expect((await page(linkIn(bobs, 'Approve'), 'POST')).status).toBe(200);
    expect(await statusOf(request.id)).toBe('pending');

    const carols = linkIn(mailFor('carol@example.com', request.id).mail, 'Approve');
    await advance(23 * HOUR);
    expect((await page(carols)).status).toBe(200);
    // Renewed from when it went out, still for a day at most.
    await advance(2 * HOUR);
    const lapsed = await page(carols);
    expect(lapsed.status).toBe(410);
    expect(lapsed.html).toContain('This link has expired');
    expect(await statusOf(request.id)).toBe('pending');
  });

  it('an admin retry a day later sends buttons that decide', async () => {
    smtp.unknownMailboxes.add('carol@example.com');
    let request!: GreenlightRequest;
    try {
      request = await submit('deploy');
    } finally {
      smtp.unknownMailboxes.clear();
    }
    const carols = async () => (await rowsOf(request.id)).find((row) => row.destination === 'carol');
    expect(await carols()).toMatchObject({ status: 'failed', lastStatus: 550 });
    await advance(25 * HOUR);
    expect((await hub.api('POST', `/api/v1/notifications/${(await carols())?.id ?? ''}/retry`, ADMIN_TOKEN)).status).toBe(200);
    await dispatcher().idle();
    const mail = mailFor('carol@example.com', request.id).mail;
    expect((await page(linkIn(mail, 'Deny'))).status).toBe(200);
    expect((await page(linkIn(mail, 'Approve'), 'POST')).status).toBe(200);
    expect(await statusOf(request.id)).toBe('approved');
  });

  it('an admin retry of a mail whose links were long cleared away sends buttons that decide', async () => {
    smtp.unknownMailboxes.add('carol@example.com');
    let request!: GreenlightRequest;
    try {
      request = await submit('migrate');
    } finally {
      smtp.unknownMailboxes.clear();
    }
    const carols = await (async () => (await rowsOf(request.id)).find((row) => row.destination === 'carol'))();
    expect(carols).toMatchObject({ status: 'failed', lastStatus: 550 });
    await advance(9 * 24 * HOUR);
    const links = await hub.hub.ctx.store.db.selectFrom('email_actions').select('token_hash').where('notification_id', '=', carols?.id ?? '').execute();
    expect(links, 'the hub has pruned the lapsed links by now').toEqual([]);
    expect((await hub.api('POST', `/api/v1/notifications/${carols?.id ?? ''}/retry`, ADMIN_TOKEN)).status).toBe(200);
    await dispatcher().idle();
    const mail = mailFor('carol@example.com', request.id).mail;
    expect((await page(linkIn(mail, 'Approve'), 'POST')).status).toBe(200);
    // A link works once.
    expect((await page(linkIn(mail, 'Approve'), 'POST')).status).toBe(409);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.decisions.map((decision) => decision.approver)).toEqual(['carol']);
  });

  it('sends nothing for a request whose time ran out before the hub has marked it expired, saying so', async () => {
    const request = await submit('deploy');
    const rows = await hub.hub.ctx.store.db.selectFrom('outbox').select(['payload', 'destination']).where('request_id', '=', request.id).where('channel', '=', 'email').execute();
    const bobsRow = rows.find((row) => row.destination === 'bob');
    const payload = emailPayloadSchema.parse(JSON.parse(bobsRow?.payload ?? '{}'));
    const pastExpiry = new Date(Date.parse(request.expiresAt ?? '') + 1000);
    expect(await whyNoLongerDue(hub.hub.ctx.store.db, payload, pastExpiry)).toBe('not sent: the request expired before this email could go out');
    expect(await whyNoLongerDue(hub.hub.ctx.store.db, payload, clock.now())).toBeNull();
  });
});
