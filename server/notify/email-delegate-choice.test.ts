import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { linkIn, SmtpReceiver, type ReceivedMail } from '../test-support/smtp-receiver.js';

const POLICY = `
rules:
  - name: both
    match: { action: migrate }
    require:
      - { group: sre, count: 1 }
      - { group: dba, count: 1 }
    notify: [email]
  - name: reminded
    match: { action: reindex }
    require:
      - { group: sre, count: 1 }
      - { group: dba, count: 1 }
    notify: [email]
    remind: 1m
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [email]
`;
const DAY = 86_400_000;
type Audit = { events: { type: string; requestId: string | null; data: Record<string, unknown> }[] };

/**
 * A delegate of several approvers of one request says by email whom they decide for: a pair of links
 * each, whom a link is for kept by the hub with the link's token, and checked again when it is used.
 */
describe('email links for a delegate of several approvers', () => {
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: 'smtp-password-for-delegate-choice-4k8d' });
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let dev: TestUser, bob: TestUser, carol: TestUser, erin: TestUser, frank: TestUser;

  beforeAll(async () => {
    await smtp.start();
    hub = new TestHub('sqlite', { policy: POLICY, clock, publicUrl: 'http://greenlight.test.example', notifiers: { email: smtp.emailNotifier('GREENLIGHT_TEST_CHOICE_SMTP_PASSWORD') } });
    await hub.start();
    dev = await hub.createUser('dev', ['requester'], [], { email: 'dev@example.com' });
    bob = await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    carol = await hub.createUser('carol', ['approver'], ['dba'], { email: 'carol@example.com' });
    // Dave is asked for nothing himself; erin is an sre, so asked as herself too.
    await hub.createUser('dave', ['approver'], ['ops'], { email: 'dave@example.com' });
    erin = await hub.createUser('erin', ['approver'], ['sre'], { email: 'erin@example.com' });
    frank = await hub.createUser('frank', ['approver'], ['sre'], { email: 'frank@example.com' });
    for (const [from, to] of [[bob, 'dave'], [carol, 'dave'], [carol, 'erin']] as const) {
      // A delegate's choices list the earliest delegation first: a second apart, that order is this one.
      clock.advance(1000);
      const made = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to, endsAt: new Date(clock.now().getTime() + 7 * DAY).toISOString(), reason: 'holiday' });
      expect(made.status).toBe(201);
    }
  });
  afterAll(async () => {
    await hub.dispose();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_CHOICE_SMTP_PASSWORD;
  });

  const submit = async (action: string, reason: string) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dev.token, deployRequest({ action, resource: 'orders-db', reason, risk: 'medium' }));
    expect(status, JSON.stringify(body)).toBe(201);
    await hub.hub.dispatcher.idle();
    return body;
  };
  const mailFor = (address: string, requestId: string): ReceivedMail['mail'] => {
    const found = smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === requestId);
    expect(found, `one message to ${address}`).toHaveLength(1);
    return found[0]!.mail;
  };
  const page = async (url: string, method: 'GET' | 'POST' = 'GET') => {
    const response = await fetch(url.replace('http://greenlight.test.example', hub.url), {
      method,
      ...(method === 'POST' ? { body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
    });
    return { status: response.status, html: await response.text() };
  };
  const messagesAbout = (address: string, requestId: string): ReceivedMail['mail'][] =>
    smtp.to(address).flatMap((received) => (received.mail.headers.get('x-greenlight-request') === requestId ? [received.mail] : []));
  const remindAfterAMinute = async () => {
    await hub.hub.dispatcher.idle();
    clock.advance(61_000);
    await hub.hub.scheduler.runNow();
    await hub.hub.dispatcher.runNow();
    await hub.hub.dispatcher.idle();
  };
  const vote = async (who: TestUser, id: string, body: Record<string, unknown>) => {
    const { status, body: answer } = await hub.api('POST', `/api/v1/requests/${id}/decisions`, who.token, { decision: 'approve', ...body });
    expect(status, JSON.stringify(answer)).toBe(200);
  };
  const requestAsAdmin = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body;

  it('offers a pair of links for each approver the delegate stands in for, and counts the vote for the one clicked', async () => {
    const request = await submit('migrate', 'add the orders index');
    const mail = mailFor('dave@example.com', request.id);
    expect(mail.text).toContain('You may decide this for bob and carol, whom you stand in for: you vote once, so choose whom for.');
    expect(mail.text).not.toMatch(/^(Approve|Deny):/m);
    const forCarol = linkIn(mail, 'Approve for carol');
    const links = [linkIn(mail, 'Approve for bob'), linkIn(mail, 'Deny for bob'), forCarol, linkIn(mail, 'Deny for carol')];
    expect(new Set(links).size).toBe(4);
    // Whom a link is for is not in it to edit: the hub keeps it with the token's hash.
    for (const link of links) expect(link).toMatch(/^http:\/\/greenlight\.test\.example\/email-actions\/[A-Za-z0-9_-]{43}$/);
    expect(mail.html).toContain(`href="${forCarol}"`);
    expect(mail.html).toContain('Approve for carol</a>');

    const confirm = await page(forCarol);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('You decide for carol, as their delegate (dave).');
    expect(await requestAsAdmin(request.id)).toMatchObject({ status: 'pending', decisions: [] });

    const decided = await page(forCarol, 'POST');
    expect(decided.status, decided.html).toBe(200);
    expect(decided.html).toContain('Your approval is recorded');
    expect((await requestAsAdmin(request.id)).decisions).toEqual([expect.objectContaining({ approver: 'carol', by: 'dave', decision: 'approve', lines: ['dba'] })]);
    const audit = (await hub.api<Audit>('GET', '/api/v1/audit?type=request.vote&limit=100', ADMIN_TOKEN)).body.events;
    expect(audit.find((event) => event.requestId === request.id)?.data).toMatchObject({ via: 'email', onBehalfOf: 'carol' });

    // One person votes once: the links for bob are closed now.
    const forBob = await page(linkIn(mail, 'Approve for bob'));
    expect(forBob.status).toBe(409);
    expect(forBob.html).toContain('You already voted');
  });

  it('offers an approver who stands in for someone too a pair as themselves and a pair for them', async () => {
    const request = await submit('migrate', 'rebuild the orders index');
    const mail = mailFor('erin@example.com', request.id);
    expect(mail.text).toContain('You may decide this as yourself or for carol, whom you stand in for');
    expect(await page(linkIn(mail, 'Approve as yourself'))).toMatchObject({ status: 200, html: expect.stringContaining('You decide as erin.') });
    expect((await page(linkIn(mail, 'Approve for carol'), 'POST')).status).toBe(200);
    expect((await requestAsAdmin(request.id)).decisions).toEqual([expect.objectContaining({ approver: 'carol', by: 'erin', lines: ['dba'] })]);
  });

  it('gives a delegate of one approver a pair for that approver, whose page says whom the vote is for', async () => {
    const request = await submit('deploy', 'ship the fix');
    const mail = mailFor('dave@example.com', request.id);
    expect(mail.text).not.toContain('choose whom for');
    expect(mail.text).not.toMatch(/^(Approve|Deny):/m);
    // Named in the link kept by the hub: a delegation dave gains before he clicks cannot take the vote elsewhere.
    const forBob = linkIn(mail, 'Approve for bob');
    expect((await page(forBob)).html).toContain('You decide for bob, as their delegate (dave).');
    expect((await page(forBob, 'POST')).status).toBe(200);
    expect((await requestAsAdmin(request.id)).decisions).toEqual([expect.objectContaining({ approver: 'bob', by: 'dave' })]);
  });

  it("offers, in a reminder, no links for an approver whose quorum line is full, and the earlier links say so when opened", async () => {
    const request = await submit('reindex', 'rebuild the orders index');
    const first = mailFor('dave@example.com', request.id);
    // Frank fills the sre line: a vote for bob (sre), or erin's own, would count for nothing now.
    await vote(frank, request.id, {});
    await remindAfterAMinute();
    const [, reminder] = messagesAbout('dave@example.com', request.id);
    expect(reminder?.subject).toContain('still waits for your decision');
    expect(reminder?.text).toContain('You may decide this for carol, whom you stand in for: no other vote of yours would count now.');
    expect(reminder?.text).not.toContain('for bob');
    expect(linkIn(reminder!, 'Deny for carol')).toMatch(/\/email-actions\//);
    // Nothing waits on bob himself now, as his app would show: no reminder; carol's line is still open.
    expect(messagesAbout('bob@example.com', request.id).map((mail) => mail.subject)).toEqual([expect.stringContaining('waits for your decision')]);
    expect(messagesAbout('carol@example.com', request.id)).toHaveLength(2);
    const [, erinsReminder] = messagesAbout('erin@example.com', request.id);
    expect(erinsReminder?.text).not.toContain('as yourself');
    expect(erinsReminder?.text).not.toMatch(/^(Approve|Deny):/m);

    // The first message's link for bob, opened now, says why it would not count, and decides nothing.
    const forBob = await page(linkIn(first, 'Approve for bob'));
    expect(forBob.status).toBe(409);
    expect(forBob.html).toContain('bob&#39;s vote would no longer count');
    expect(forBob.html).toContain('Every line bob counts toward (sre) already has the approvals it needs');
    expect(forBob.html).toContain('You can still decide it for carol');
    expect(forBob.html).not.toContain('QUORUM_LINE_MET');
    expect((await page(linkIn(first, 'Approve for bob'), 'POST')).status).toBe(409);
    expect(await requestAsAdmin(request.id)).toMatchObject({ status: 'pending', decisions: [expect.objectContaining({ approver: 'frank' })] });

    expect((await page(linkIn(reminder!, 'Approve for carol'), 'POST')).status).toBe(200);
    expect(await requestAsAdmin(request.id)).toMatchObject({ status: 'approved' });
  });

  it('offers, in a reminder, no links for an approver whose vote another delegate cast, and the earlier links say who cast it', async () => {
    const request = await submit('reindex', 'drop the unused orders index');
    const first = mailFor('dave@example.com', request.id);
    await vote(erin, request.id, { onBehalfOf: 'carol' });
    await remindAfterAMinute();
    const [, reminder] = messagesAbout('dave@example.com', request.id);
    expect(reminder?.text).not.toContain('carol');
    // Bob is the one left: the pair names him, and its page says the vote is his.
    expect((await page(linkIn(reminder!, 'Approve for bob'))).html).toContain('You decide for bob, as their delegate (dave).');

    const forCarol = await page(linkIn(first, 'Approve for carol'));
    expect(forCarol.status).toBe(409);
    expect(forCarol.html).toContain('carol&#39;s vote is already in');
    expect(forCarol.html).toContain('carol already voted to approve this request (cast by erin); one person votes once.');
    expect(forCarol.html).toContain('You can still decide it for bob');
    expect((await page(linkIn(first, 'Approve for bob'), 'POST')).status).toBe(200);
    expect((await requestAsAdmin(request.id)).decisions).toEqual([expect.objectContaining({ approver: 'carol', by: 'erin' }), expect.objectContaining({ approver: 'bob', by: 'dave' })]);
  });

  // Ends bob's delegation to dave: runs last.
  it('checks the delegation again when the link is used: one ended since decides nothing', async () => {
    const request = await submit('migrate', 'drop the old orders index');
    const mail = mailFor('dave@example.com', request.id);
    const delegations = (await hub.api<{ delegations: Delegation[] }>('GET', '/api/v1/delegations', bob.token)).body.delegations;
    const toDave = delegations.find((d) => d.to === 'dave' && d.active);
    expect((await hub.api('DELETE', `/api/v1/delegations/${toDave?.id ?? ''}`, bob.token)).status).toBe(200);
    const refused = await page(linkIn(mail, 'Approve for bob'), 'POST');
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('You are not bob&#39;s delegate now');
    expect(await requestAsAdmin(request.id)).toMatchObject({ status: 'pending', decisions: [] });
  });

});
