import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';
import { newWebhookSecret, WebhookReceiver, type ReceivedWebhook } from '../test-support/webhook-receiver.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:bot, "teams:oncall", email]
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 4h, reviewers: [security] }
`;

const REASON = 'database is down, customers cannot pay';
const ALERT = `Break-glass by dave on prod-db: INC-4412 — ${REASON}`;
const SMTP_PASSWORD = 'smtp-password-for-the-alert-test-4d2k';

describe('break-glass goes out at once on every channel of the rule, marked urgent', () => {
  const receiver = new WebhookReceiver();
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: SMTP_PASSWORD });
  const secret = newWebhookSecret();
  // Webhook receivers accept timestamps within 5 minutes of their own clock.
  const clock = new ManualClock(new Date(Date.now() - 60_000));
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
        teams: [{ name: 'oncall', url: `${receiver.url}/teams/hook` }],
        email: smtp.emailNotifier('GREENLIGHT_TEST_ALERT_SMTP_PASSWORD'),
      },
    });
    await hub.start();
    dave = await hub.createUser('dave', ['requester'], ['oncall'], { email: 'dave@example.com' });
    await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    await hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
  });
  afterAll(async () => {
    await hub.dispose();
    await receiver.close();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_ALERT_SMTP_PASSWORD;
  });

  it('sends a signed request.break_glass webhook, a Teams card and an email to approvers and reviewers, each leading with who, where, which incident and why', async () => {
    const { status, body: used } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC-4412' } }));
    expect(status).toBe(201);

    const webhook = await receiver.arrivals.next((arrival: ReceivedWebhook) => arrival.path.startsWith('/bot') && arrival.body.type === 'request.break_glass');
    const verified = WebhookReceiver.verify(secret, webhook) as ReceivedWebhook['body'];
    expect(verified).toMatchObject({ type: 'request.break_glass', urgent: true, message: ALERT, data: { id: used.id, status: 'approved', requester: 'dave' } });

    const card = await receiver.arrivals.next((arrival: ReceivedWebhook) => arrival.path.startsWith('/teams') && arrival.raw.includes('break-glass'));
    expect(card.raw).toContain('URGENT');
    expect(card.raw).toContain(JSON.stringify(ALERT).slice(1, -1));

    await hub.hub.dispatcher.idle();
    for (const address of ['bob@example.com', 'sue@example.com']) {
      const mails = smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === used.id);
      expect(mails, `one urgent message to ${address}`).toHaveLength(1);
      expect(mails[0]?.mail.subject).toBe(`[Greenlight] URGENT: ${ALERT}`);
      expect(mails[0]?.mail.text).not.toContain('Approve:');
    }
    expect(smtp.to('dave@example.com')).toHaveLength(0);
  });
});
