import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { eventually } from '../test-support/eventually.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';
import { newWebhookSecret, WebhookReceiver } from '../test-support/webhook-receiver.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [email, webhook:bot]
`;

const SMTP_PASSWORD = 'smtp-password-for-the-graceful-stop-test-3m8v';

describe('a hub stopping gracefully while notifications are on their way', () => {
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: SMTP_PASSWORD });
  const receiver = new WebhookReceiver();
  // Webhook receivers accept timestamps within 5 minutes of their own clock.
  const clock = new ManualClock(new Date());
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
        webhooks: [{ name: 'bot', url: `${receiver.url}/bot`, secret: newWebhookSecret() }],
        email: smtp.emailNotifier('GREENLIGHT_TEST_STOP_SMTP_PASSWORD'),
      },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester'], ['sre'], { email: 'alice@example.com' });
    await hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
  });
  afterAll(async () => {
    smtp.hold = null;
    receiver.release();
    await hub.dispose();
    await receiver.close();
    await smtp.stop();
    delete process.env.GREENLIGHT_TEST_STOP_SMTP_PASSWORD;
  });

  const submit = async () => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    expect(status).toBe(201);
    return body;
  };
  const rowOf = async (requestId: string, channel: string) => (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body.notifications.find((n) => n.requestId === requestId && n.channel === channel);
  /** Stops the hub once `inFlight` says an attempt is under way, runs `meanwhile` once it began stopping, and starts it again. */
  const restartDuring = async (inFlight: () => boolean, meanwhile: () => void) => {
    await eventually(inFlight, { what: 'an attempt under way' });
    const stopping = hub.stop();
    await eventually(() => hub.hub.ctx.outbox?.fastLane === null, { what: 'the dispatcher to begin stopping' });
    meanwhile();
    await stopping;
    await hub.start();
    await hub.hub.dispatcher.idle();
  };

  it('files an email the SMTP server accepted while the hub was stopping, and does not send it again after the restart', async () => {
    let accept = () => undefined as void;
    smtp.hold = new Promise<void>((resolve) => (accept = resolve));
    const request = await submit();
    await restartDuring(
      () => smtp.holding === 1,
      () => {
        smtp.hold = null;
        accept();
      },
    );
    const mails = smtp.to('bob@example.com').filter((received) => received.mail.headers.get('x-greenlight-request') === request.id);
    expect(mails.map((received) => received.mail.subject)).toEqual([expect.stringContaining('waits for your decision')]);
    expect(await rowOf(request.id, 'email')).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('hands back, uncounted, an attempt the stop cut short, and sends it after the restart', async () => {
    await hub.hub.dispatcher.idle();
    receiver.reply = () => 'hold';
    const request = await submit();
    const aboutIt = () => receiver.received.filter((webhook) => webhook.body.data.id === request.id);
    await restartDuring(
      () => aboutIt().length === 1,
      () => {
        receiver.reply = () => ({ status: 200 });
      },
    );
    expect(aboutIt()).toHaveLength(2);
    expect(new Set(aboutIt().map((webhook) => webhook.id)).size).toBe(1);
    expect(await rowOf(request.id, 'webhook')).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});
