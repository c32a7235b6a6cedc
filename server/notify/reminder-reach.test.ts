import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { linkIn, SmtpReceiver } from '../test-support/smtp-receiver.js';
import { newWebhookSecret, WebhookReceiver } from '../test-support/webhook-receiver.js';

// The rule itself emails nobody: only its escalation step reaches the on-call lead by email and pager.
const POLICY = `
rules:
  - name: nightly
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:audit]
    remind: 1m
    escalation:
      - { after: 90s, notify: [leads], channels: [email, webhook:pager] }
`;

const SECOND = 1000;

describe('a reminder goes out on the channels an escalation step reached its people on', () => {
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: 'smtp-password-for-the-reminder-reach-test-4kq8' });
  const receiver = new WebhookReceiver();
  const secret = newWebhookSecret();
  // Behind real time, so webhook timestamps stay within what receivers accept as the test moves the clock on.
  const clock = new ManualClock(new Date(Date.now() - 3 * 60 * SECOND));
  let hub: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await smtp.start();
    await receiver.start();
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      publicUrl: 'http://greenlight.test.example',
      notifiers: {
        allowPrivateNetworks: true,
        email: smtp.emailNotifier('GREENLIGHT_TEST_REMINDER_REACH_SMTP_PASSWORD'),
        webhooks: [
          { name: 'audit', url: `${receiver.url}/audit`, secret },
          { name: 'pager', url: `${receiver.url}/pager`, secret },
        ],
      },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester'], [], { email: 'alice@example.com' });
    await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    await hub.createUser('lena', ['lead'], ['leads'], { email: 'lena@example.com' });
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_REMINDER_REACH_SMTP_PASSWORD;
  });

  const advance = async (ms: number) => {
    await hub.hub.dispatcher.idle();
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
    await hub.hub.dispatcher.runNow();
    await hub.hub.dispatcher.idle();
  };
  const subjectsTo = (address: string, requestId: string) =>
    smtp
      .to(address)
      .filter((received) => received.mail.headers.get('x-greenlight-request') === requestId)
      .map((received) => received.mail.subject);
  const eventsAt = (path: string, requestId: string) => receiver.received.filter((webhook) => webhook.path === path && webhook.body.data.id === requestId).map((webhook) => webhook.body.type);

  it('reminds the lead by email and on the pager once the step paged them, and not before', async () => {
    const { status, body: request } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    expect(status).toBe(201);

    // First reminder, before the step: the rule's own channel only.
    await advance(60 * SECOND);
    expect(eventsAt('/audit', request.id)).toEqual(['request.created', 'request.reminded']);
    expect(eventsAt('/pager', request.id)).toEqual([]);
    expect(subjectsTo('lena@example.com', request.id)).toEqual([]);

    await advance(30 * SECOND);
    expect(subjectsTo('lena@example.com', request.id)).toEqual([expect.stringContaining('was escalated to you')]);
    expect(eventsAt('/pager', request.id)).toEqual(['request.escalated']);

    // Second reminder, after the step: where the step reached the lead, too.
    await advance(30 * SECOND);
    expect(subjectsTo('lena@example.com', request.id)).toEqual([expect.stringContaining('was escalated to you'), expect.stringContaining('still waits for your decision')]);
    expect(eventsAt('/pager', request.id)).toEqual(['request.escalated', 'request.reminded']);
    const paged = receiver.received.filter((webhook) => webhook.path === '/pager' && webhook.body.type === 'request.reminded' && webhook.body.data.id === request.id);
    expect(WebhookReceiver.verify(secret, paged[0]!)).toMatchObject({ type: 'request.reminded', data: { id: request.id, status: 'pending' } });
    expect(eventsAt('/audit', request.id)).toEqual(['request.created', 'request.reminded', 'request.escalated', 'request.reminded']);
    // The rule asks its own approvers by no email: the step's email is for the people it paged.
    expect(subjectsTo('bob@example.com', request.id)).toEqual([]);

    // The reminder's Approve link decides.
    const reminder = smtp.to('lena@example.com').filter((received) => received.mail.subject?.includes('still waits'))[0]!.mail;
    const approved = await fetch(linkIn(reminder, 'Approve').replace('http://greenlight.test.example', hub.url), { method: 'POST', body: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(approved.status).toBe(200);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.status).toBe('approved');
  });
});
