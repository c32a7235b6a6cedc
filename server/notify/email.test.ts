import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest, MyChannels, NotificationPage } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { outboxStore } from '../store/outbox.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from '../test-support/hub-fixture.js';
import { postgresAvailability } from '../test-support/postgres.js';
import { linkIn, SmtpReceiver, type ReceivedMail } from '../test-support/smtp-receiver.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy, risk: [low, medium] }
    approvers: [sre]
    notify: [email]
    escalation:
      - { after: 1m, notify: [leads], channels: [email] }
  - name: risky
    match: { action: deploy, risk: [high, critical] }
    approvers: [sre]
    notify: [email]
  - name: databases
    match: { action: db-open }
    approvers: [sre]
    notify: [email]
    emailApprove: true
  - name: config
    match: { action: config }
    approvers: [sre]
    notify: [email]
    remind: 1m
  - name: pair
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    notify: [email]
`;

const SMTP_PASSWORD = 'smtp-password-that-must-never-show-9f3k';
type Audit = { events: { type: string; actor: string; requestId: string | null; data: Record<string, unknown> }[] };

const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('email notifications, with approve links that survive link scanners, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: SMTP_PASSWORD });
  const clock = new ManualClock(new Date());
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { logs.push(chunk.toString()); done(); } }));
  let hub: TestHub;
  let alice: TestUser, bob: TestUser, dave: TestUser, lena: TestUser;

  beforeAll(async () => {
    await smtp.start();
    hub = new TestHub(kind, {
      policy: POLICY,
      clock,
      logger,
      publicUrl: 'http://greenlight.test.example',
      notifiers: { email: smtp.emailNotifier('GREENLIGHT_TEST_SMTP_PASSWORD') },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester'], ['sre'], { email: 'alice@example.com' });
    bob = await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    await hub.createUser('carol', ['approver'], ['sre'], { email: 'carol@example.com' });
    dave = await hub.createUser('dave', ['approver'], ['sre']);
    lena = await hub.createUser('lena', ['lead'], ['leads'], { email: 'lena@example.com' });
  });
  afterAll(async () => {
    await hub.dispose();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_SMTP_PASSWORD;
  });

  const dispatcher = () => hub.hub.dispatcher;
  const advance = async (ms: number) => {
    await dispatcher().idle();
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
    await dispatcher().runNow();
    await dispatcher().idle();
  };
  const submit = async (overrides: Parameters<typeof deployRequest>[0] = {}) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium', ...overrides }));
    expect(status).toBe(201);
    await dispatcher().idle();
    return body;
  };
  const mailFor = (address: string, requestId: string): ReceivedMail => {
    const found = smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === requestId);
    // Said in full when it fails: what did arrive, and what the hub logged about this request.
    const explain = () =>
      [
        `one message to ${address} about ${requestId}; received about it: ${JSON.stringify(smtp.received.filter((r) => r.mail.headers.get('x-greenlight-request') === requestId).map((r) => ({ to: r.to, subject: r.mail.subject })))}`,
        `SMTP connections reset: ${smtp.brokenConnections.length}`,
        'hub log lines naming it:',
        ...logs.filter((line) => line.includes(requestId) || line.includes('"level":50') || line.includes('"level":40')).slice(-30),
      ].join('\n');
    if (found.length !== 1) expect.fail(explain());
    return found[0]!;
  };
  const statusOf = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, bob.token)).body.status;
  const page = async (url: string, method: 'GET' | 'HEAD' | 'POST' = 'GET', form?: Record<string, string>) => {
    const response = await fetch(url.replace('http://greenlight.test.example', hub.url), {
      method,
      ...(form ? { body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
    });
    return { status: response.status, html: await response.text(), headers: response.headers };
  };
  const auditOf = async (type: string) => (await hub.api<Audit>('GET', `/api/v1/audit?type=${type}&limit=1000`, ADMIN_TOKEN)).body.events;

  it('sends one message to each eligible approver with an address: title, requester, reason, risk, deadline, diff, links', async () => {
    const request = await submit({ reason: 'hotfix <script>alert(1)</script> & more' });
    expect(smtp.received.filter((received) => received.mail.headers.get('x-greenlight-request') === request.id).map((received) => received.to).flat().sort()).toEqual(['bob@example.com', 'carol@example.com']);
    const { mail } = mailFor('bob@example.com', request.id);
    expect(mail.subject).toBe('[Greenlight] deploy payments-api → production waits for your decision (alice, risk medium)');
    expect(mail.from?.text).toBe('"Greenlight" <greenlight@example.com>');
    expect(mail.text).toContain('Requester: alice');
    expect(mail.text).toContain('Reason:    hotfix <script>alert(1)</script> & more');
    expect(mail.text).toContain('Risk:      medium');
    expect(mail.text).toMatch(/Deadline: {2}escalates at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(mail.text).toContain('  -old\n  +new');
    expect(mail.text).toContain('- INC-4412: https://tickets.example.com/INC-4412');
    expect(linkIn(mail, 'Approve')).toMatch(/^http:\/\/greenlight\.test\.example\/email-actions\/[A-Za-z0-9_-]{43}$/);
    expect(linkIn(mail, 'Deny')).not.toBe(linkIn(mail, 'Approve'));
    expect(mailFor('carol@example.com', request.id).mail.text).not.toContain(linkIn(mail, 'Approve'));
    const html = String(mail.html);
    expect(html).toContain('hotfix &lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(html).not.toContain('<script>');
    expect(html).toContain(`href="${linkIn(mail, 'Approve')}"`);
    expect(html).toContain('<pre style="background:#f5f5f5;padding:8px;overflow:auto">--- a/x');
    const confirm = await page(linkIn(mail, 'Approve'));
    expect(confirm.html).toContain('<tr><th>Why</th><td>hotfix &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</td></tr>');
    expect(confirm.html).not.toContain('<script>');
    expect(confirm.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('spells out the direction controls of a diff in both the text and the HTML part', async () => {
    const request = await submit({ context: { diff: '+if role == "user\u202E \u2066# admin\u2069":\n' } });
    const { mail } = mailFor('bob@example.com', request.id);
    expect(mail.text).toContain('+if role == "user⟦U+202E⟧ ⟦U+2066⟧# admin⟦U+2069⟧":');
    expect(String(mail.html)).toContain('+if role == &quot;user⟦U+202E⟧ ⟦U+2066⟧# admin⟦U+2069⟧&quot;:');
    expect(`${mail.text ?? ''}${String(mail.html)}`).not.toMatch(/[\u202E\u2066\u2069]/);
  });

  it('changes nothing on GET or HEAD, however often a scanner opens the link; the POST approves, recorded as via email', async () => {
    const request = await submit();
    const approve = linkIn(mailFor('bob@example.com', request.id).mail, 'Approve');
    for (let n = 0; n < 5; n++) {
      const shown = await page(approve);
      expect(shown.status).toBe(200);
      expect(shown.html).toContain('<form method="post">');
      expect(shown.headers.get('referrer-policy')).toBe('no-referrer');
      expect(shown.headers.get('cache-control')).toBe('no-store');
      expect((await page(approve, 'HEAD')).status).toBe(200);
    }
    expect(await statusOf(request.id)).toBe('pending');
    const shown = await page(approve);
    expect(shown.html).toContain('Approve this request?');
    expect(shown.html).toContain('deploy payments-api → production');
    expect(shown.html).toContain('You decide as bob.');

    const decided = await page(approve, 'POST', {});
    expect(decided.status).toBe(200);
    expect(decided.html).toContain('<h1>Approved</h1>');
    expect(await statusOf(request.id)).toBe('approved');
    const approved = (await auditOf('request.approved')).find((event) => event.requestId === request.id);
    expect(approved).toMatchObject({ actor: 'bob', data: { via: 'email' } });

    const again = await page(approve, 'POST', {});
    expect(again.status).toBe(409);
    expect(again.html).toMatch(/This request was approved by bob at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    const carolsDeny = await page(linkIn(mailFor('carol@example.com', request.id).mail, 'Deny'), 'POST', { comment: 'too late' });
    expect(carolsDeny.status).toBe(409);
    expect(await statusOf(request.id)).toBe('approved');
  });

  it('names the delegate and the approver they decided for on the page of a link opened after the decision', async () => {
    const gwen = await hub.createUser('gwen', ['approver'], ['qa']);
    const away = await hub.api<{ id: string }>('POST', '/api/v1/delegations', bob.token, { to: 'gwen', endsAt: new Date(clock.now().getTime() + 86_400_000).toISOString(), reason: 'holiday' });
    expect(away.status).toBe(201);
    try {
      const request = await submit();
      expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, gwen.token, { decision: 'approve' })).body).toMatchObject({ status: 'approved', decidedBy: 'gwen', decidedFor: 'bob' });
      for (const label of ['Approve', 'Deny'] as const) {
        const shown = await page(linkIn(mailFor('carol@example.com', request.id).mail, label));
        expect(shown.status).toBe(409);
        expect(shown.html).toMatch(/This request was approved by gwen for bob at \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Nothing more to decide\./);
      }
    } finally {
      expect((await hub.api('DELETE', `/api/v1/delegations/${away.body.id}`, bob.token)).status).toBe(200);
    }
  });

  it('after approving from one link, the other link of the same mail says the vote is in, and burns nothing', async () => {
    const request = await submit({ action: 'migrate' });
    const mail = mailFor('bob@example.com', request.id).mail;
    expect((await page(linkIn(mail, 'Approve'), 'POST', {})).html).toContain('Your approval is recorded');
    const deny = linkIn(mail, 'Deny');
    const shown = await page(deny);
    expect(shown.status).toBe(409);
    expect(shown.html).toContain('You voted to approve this request; one person votes once.');
    expect(shown.html).not.toContain('<form method="post">');
    expect((await page(deny, 'POST', { comment: 'changed my mind' })).status).toBe(409);
    expect(await statusOf(request.id)).toBe('pending');
    const used = await hub.hub.ctx.store.db.selectFrom('email_actions').select(['decision', 'used_at']).where('request_id', '=', request.id).where('decision', '=', 'deny').execute();
    expect(used.every((link) => link.used_at === null)).toBe(true);
  });

  it('denies with the comment typed on the page, escaped wherever it is shown', async () => {
    const request = await submit();
    const deny = linkIn(mailFor('carol@example.com', request.id).mail, 'Deny');
    expect((await page(deny)).html).toContain('<textarea id="comment" name="comment"');
    // A comment the hub refuses decides nothing and leaves the link usable.
    const refused = await page(deny, 'POST', { comment: 'no \u202Bfreeze\u202C' });
    expect(refused.html).toContain('U+202B');
    expect(await statusOf(request.id)).toBe('pending');
    const denied = await page(deny, 'POST', { comment: 'not during the freeze <b>really</b>' });
    expect(denied.status).toBe(200);
    expect(denied.html).toContain('<h1>Denied</h1>');
    const view = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, bob.token)).body;
    expect(view.status).toBe('denied');
    expect(view.decisions).toMatchObject([{ approver: 'carol', decision: 'deny', comment: 'not during the freeze <b>really</b>' }]);
    expect((await auditOf('request.denied')).find((event) => event.requestId === request.id)).toMatchObject({ actor: 'carol', data: { via: 'email', comment: 'not during the freeze <b>really</b>' } });
  });

  it('records where every decision came from: the app over its socket, the API over HTTP', async () => {
    const byApp = await submit();
    const client = await hub.connect(bob);
    await client.decide({ requestId: byApp.id, decision: 'approve' });
    const byApi = await submit();
    expect((await hub.api('POST', `/api/v1/requests/${byApi.id}/decisions`, bob.token, { decision: 'deny', comment: 'no' })).status).toBe(200);
    expect((await auditOf('request.approved')).find((event) => event.requestId === byApp.id)?.data.via).toBe('app');
    expect((await auditOf('request.denied')).find((event) => event.requestId === byApi.id)?.data.via).toBe('api');
    // A client cannot claim a decision came by email.
    const forged = await submit();
    expect((await hub.api('POST', `/api/v1/requests/${forged.id}/decisions`, bob.token, { decision: 'approve', via: 'email' })).status).toBe(400);
  });

  it('asks for the console on high risk and decides nothing by POST, unless the rule says emailApprove', async () => {
    const risky = await submit({ risk: 'high' });
    const approve = linkIn(mailFor('bob@example.com', risky.id).mail, 'Approve');
    expect(mailFor('bob@example.com', risky.id).mail.text).toContain('Risk high: the links ask you to sign in to the console to decide.');
    const shown = await page(approve);
    expect(shown.status).toBe(403);
    expect(shown.html).toContain('Please decide in the console');
    expect(shown.html).toContain('<a href="http://greenlight.test.example/">Open the Greenlight console</a>');
    expect(shown.html).not.toContain('<form');
    expect((await page(approve, 'POST', {})).status).toBe(403);
    expect(await statusOf(risky.id)).toBe('pending');

    const allowed = await submit({ action: 'db-open', risk: 'critical' });
    const decided = await page(linkIn(mailFor('bob@example.com', allowed.id).mail, 'Approve'), 'POST', {});
    expect(decided.status).toBe(200);
    expect(await statusOf(allowed.id)).toBe('approved');
  });

  it('emails the people an escalation adds', async () => {
    const request = await submit();
    await advance(61_000);
    const { mail } = mailFor('lena@example.com', request.id);
    expect(mail.subject).toContain('was escalated to you');
    expect(smtp.to('bob@example.com').filter((received) => received.mail.headers.get('x-greenlight-request') === request.id)).toHaveLength(1);
    await page(linkIn(mail, 'Approve'), 'POST', {});
    expect(await statusOf(request.id)).toBe('approved');
  });

  it('delivers mail written while the dispatcher reads its next wake-up, before the run that read resolves', async () => {
    await dispatcher().idle();
    const nextDue = outboxStore.nextDueNotLeasedBy.bind(outboxStore);
    let submitted: Promise<GreenlightRequest> | undefined;
    vi.spyOn(outboxStore, 'nextDueNotLeasedBy').mockImplementation(async (db, owner) => {
      // The submission's mail is committed, and its run asked for, while this read is under way.
      submitted ??= hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' })).then(({ body }) => body);
      await submitted;
      return nextDue(db, owner);
    });
    await dispatcher().runNow();
    vi.restoreAllMocks();
    await dispatcher().idle();
    const request = await submitted;
    expect(request).toBeDefined();
    expect(mailFor('bob@example.com', request!.id).mail.subject).toContain('waits for your decision');
  });

  it('reminds by email the approvers who have not acted, and stops once decided', async () => {
    const request = await submit({ action: 'config' });
    const carolsFirst = mailFor('carol@example.com', request.id);
    await page(linkIn(carolsFirst.mail, 'Deny'), 'GET');
    expect(await statusOf(request.id)).toBe('pending');
    await advance(61_000);
    const aboutIt = (address: string) => smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === request.id);
    expect(aboutIt('bob@example.com').map((received) => received.mail.subject)).toEqual([
      '[Greenlight] config payments-api → production waits for your decision (alice, risk medium)',
      '[Greenlight] config payments-api → production still waits for your decision (alice, risk medium)',
    ]);
    // The reminder's links are its own; the first message's links still work too.
    const reminder = aboutIt('carol@example.com')[1]!.mail;
    expect(linkIn(reminder, 'Approve')).not.toBe(linkIn(carolsFirst.mail, 'Approve'));
    expect((await page(linkIn(reminder, 'Approve'), 'POST', {})).status).toBe(200);
    await advance(61_000);
    expect(aboutIt('bob@example.com')).toHaveLength(2);
  });

  it('shows a clear page for an expired or unknown link and decides nothing', async () => {
    const request = await submit();
    const approve = linkIn(mailFor('bob@example.com', request.id).mail, 'Approve');
    await advance(24 * 3_600_000 + 1000);
    const expired = await page(approve);
    expect(expired.status).toBe(410);
    expect(expired.html).toContain('This link has expired');
    expect((await page(approve, 'POST', {})).status).toBe(410);
    expect(await statusOf(request.id)).toBe('pending');
    const unknown = await page(`${hub.url}/email-actions/${'A'.repeat(43)}`);
    expect(unknown.status).toBe(404);
    expect(unknown.html).toContain('This link is not valid');
    expect((await page(`${hub.url}/email-actions/%3Cscript%3E`)).html).not.toContain('<script>');
  });

  it('delivers through retries when the SMTP server is down, then back', async () => {
    await smtp.stop();
    const request = await submit();
    const failed = (await hub.api<NotificationPage>('GET', '/api/v1/notifications?status=pending', ADMIN_TOKEN)).body.notifications.filter((n) => n.requestId === request.id);
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ channel: 'email', attempts: 1 });
    await smtp.start();
    smtp.refuse = true;
    await advance(6000);
    expect(smtp.refused).toBeGreaterThan(0);
    smtp.refuse = false;
    await advance(6 * 60_000);
    expect(mailFor('bob@example.com', request.id).mail.subject).toContain('waits for your decision');
    expect(mailFor('carol@example.com', request.id).mail.messageId).toMatch(/^<ntf_[a-z0-9]+@greenlight>$/);
    const metrics = (await hub.api<string>('GET', '/metrics', null)).body;
    expect(metrics).toMatch(/greenlight_notifications_total\{channel="email",outcome="retry"\} [1-9]/);
    expect(metrics).toMatch(/greenlight_notifications_total\{channel="email",outcome="delivered"\} [1-9]/);
  });

  it('dead-letters a message the SMTP server keeps refusing, audited and counted, and sends it again on retry', async () => {
    smtp.refuse = true;
    try {
      const request = await submit({ action: 'db-open' });
      const bobs = async (status: string) => (await hub.api<NotificationPage>('GET', `/api/v1/notifications?status=${status}&limit=1000`, ADMIN_TOKEN)).body.notifications.find((n) => n.requestId === request.id && n.destination === 'bob');
      for (let attempt = 1; attempt < 10; attempt++) {
        await dispatcher().idle();
        const row = await bobs('pending');
        expect(row).toMatchObject({ channel: 'email', attempts: attempt, lastStatus: 451 });
        clock.set(row?.nextAttemptAt ?? '');
        await dispatcher().runNow();
      }
      await dispatcher().idle();
      const dead = await bobs('failed');
      expect(dead).toMatchObject({ attempts: 10, lastStatus: 451 });
      expect((await auditOf('notification.dead')).find((event) => event.data.notification === dead?.id)?.data).toMatchObject({ channel: 'email', destination: 'bob', attempts: 10 });
      expect(String((await hub.api('GET', '/metrics', null)).body)).toMatch(/greenlight_notifications_total\{channel="email",outcome="dead"\} [1-9]/);
      smtp.refuse = false;
      expect((await hub.api('POST', `/api/v1/notifications/${dead?.id ?? ''}/retry`, ADMIN_TOKEN)).status).toBe(200);
      await dispatcher().idle();
      expect(mailFor('bob@example.com', request.id).mail.messageId).toBe(`<${dead?.id ?? ''}@greenlight>`);
    } finally {
      smtp.refuse = false;
    }
  });

  it('dead-letters at once a message the server rejects for good (no such mailbox), audited, and still mails the others', async () => {
    smtp.unknownMailboxes.add('carol@example.com');
    try {
      const request = await submit();
      const rows = (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body.notifications.filter((n) => n.requestId === request.id && n.channel === 'email');
      expect(rows.find((row) => row.destination === 'carol')).toMatchObject({ status: 'failed', attempts: 1, lastStatus: 550, lastError: expect.stringContaining('550') });
      expect(rows.find((row) => row.destination === 'bob')).toMatchObject({ status: 'delivered', attempts: 1 });
      const dead = (await auditOf('notification.dead')).find((event) => event.requestId === request.id);
      expect(dead?.data).toMatchObject({ channel: 'email', destination: 'carol', attempts: 1 });
      expect(mailFor('bob@example.com', request.id).mail.subject).toContain('waits for your decision');
    } finally {
      smtp.unknownMailboxes.clear();
    }
  });

  it('keeps retrying a message refused for want of sign-in or relay rights (5.7.1): the settings can be put right', async () => {
    smtp.relayDenied.add('carol@example.com');
    try {
      const request = await submit();
      const carols = async () => (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body.notifications.find((n) => n.requestId === request.id && n.destination === 'carol');
      expect(await carols()).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 550, lastError: expect.stringContaining('5.7.1') });
      smtp.relayDenied.clear();
      await advance(6000);
      expect(mailFor('carol@example.com', request.id).mail.subject).toContain('waits for your decision');
    } finally {
      smtp.relayDenied.clear();
    }
  });

  it('tells each person whether email reaches them, with their address and the rules, for the Settings view', async () => {
    const channels = async (who: TestUser) => (await hub.api<MyChannels>('GET', '/api/v1/me/channels', who.token)).body.channels;
    const email = async (who: TestUser) => (await channels(who)).find((channel) => channel.channel === 'email');
    expect((await channels(bob)).map((channel) => [channel.channel, channel.reaches])).toEqual([['app', true], ['email', true], ['webhook', false]]);
    expect(await email(bob)).toMatchObject({ reaches: true, address: 'bob@example.com', rules: ['prod', 'risky', 'databases', 'config', 'pair'] });
    expect(await email(lena)).toMatchObject({ reaches: true, address: 'lena@example.com', rules: ['prod'] });
    expect(await email(dave)).toMatchObject({ reaches: false, address: null, detail: 'You have no email address here; an admin can add one in Users.' });
    expect(await email(alice)).toMatchObject({ reaches: false, rules: [] });
    expect((await hub.api('GET', '/api/v1/me/channels', null)).status).toBe(401);
  });

  it('never shows the SMTP password in logs, audit events, API answers or metrics', async () => {
    const answers = [
      JSON.stringify((await hub.api('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body),
      JSON.stringify((await hub.api('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN)).body),
      String((await hub.api('GET', '/metrics', null)).body),
      JSON.stringify((await hub.api('GET', '/api/v1/me', bob.token)).body),
      logs.join(''),
    ];
    for (const text of answers) expect(text).not.toContain(SMTP_PASSWORD);
    expect(logs.length).toBeGreaterThan(0);
  });
});
