import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';
import { eventually } from '../test-support/eventually.js';
import { newWebhookSecret, WebhookReceiver, type ReceivedWebhook } from '../test-support/webhook-receiver.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:bot, email]
    escalation:
      - { after: 10m, notify: [security-leads] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`;

const HOUR = 3_600_000;
const SMTP_PASSWORD = 'smtp-password-for-the-overdue-test-8c1q';

// The security lead asked to chase an unreviewed break-glass may have no Greenlight window open at night.
describe('a break-glass review gone overdue, on the rule\'s channels', () => {
  const receiver = new WebhookReceiver();
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: SMTP_PASSWORD });
  const secret = newWebhookSecret();
  // A day behind real time, so the overdue webhook's timestamp, a day on, is within a receiver's 5 minutes.
  const clock = new ManualClock(new Date(Date.now() - 24 * HOUR - 60_000));
  let hub: TestHub;
  let dave: TestUser;

  beforeAll(async () => {
    await receiver.start();
    await smtp.start();
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      publicUrl: 'http://greenlight.test.example',
      notifiers: {
        allowPrivateNetworks: true,
        webhooks: [{ name: 'bot', url: `${receiver.url}/bot`, secret }],
        email: smtp.emailNotifier('GREENLIGHT_TEST_OVERDUE_SMTP_PASSWORD'),
      },
    });
    await hub.start();
    dave = await hub.createUser('dave', ['requester'], ['oncall'], { email: 'dave@example.com' });
    await hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
    await hub.createUser('lena', ['lead'], ['security-leads'], { email: 'lena@example.com' });
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_OVERDUE_SMTP_PASSWORD;
  });

  it('sends an urgent, signed webhook and an email to the lead it escalates to', async () => {
    const { status, body: used } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ reason: 'database is down, customers cannot pay', breakGlass: { incident: 'INC-4412' } }));
    expect(status).toBe(201);
    await hub.hub.dispatcher.idle();
    expect(smtp.to('lena@example.com')).toHaveLength(0);

    clock.advance(24 * HOUR);
    await hub.hub.scheduler.runNow();
    const webhook = await receiver.arrivals.next((arrival: ReceivedWebhook) => arrival.body.type === 'request.break_glass' && arrival.raw.includes('review overdue'));
    expect(WebhookReceiver.verify(secret, webhook)).toMatchObject({ urgent: true, message: expect.stringMatching(/^Break-glass review overdue: dave on prod-db, INC-4412, .*security-leads asked to chase it$/), data: { id: used.id } });

    const mail = await eventually(async () => smtp.to('lena@example.com').find((received) => received.mail.headers.get('x-greenlight-request') === used.id), { what: 'the overdue email to the lead' });
    expect(mail.mail.subject).toMatch(/^\[Greenlight\] URGENT: Break-glass review overdue/);
  });
});
