import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { SlackStandIn } from '../test-support/slack-stand-in.js';
import { sendToHub, slackForm, slackHeaders } from '../test-support/slack-person.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';
import { WebhookReceiver } from '../test-support/webhook-receiver.js';
import { ManualClock } from '../clock.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: [email, "webhook:audit-sink", "slack:#deploys", "teams:oncall"]
`;

// Every credential a hub is configured with, each distinctive enough to be found anywhere.
const SECRETS = {
  webhook: `whsec_${Buffer.from('webhook-secret-never-shown-000001').toString('base64')}`,
  smtpPassword: 'smtp-password-never-shown-7c1d',
  slackBotToken: 'xoxb-bot-token-never-shown-5e2a',
  slackSigningSecret: 'slack-signing-secret-never-shown-8b4f',
  teamsCredential: 'teams-url-credential-never-shown-2f9e',
};

/**
 * A hub with every channel configured, each failing at least once (refused mail, 500s from the
 * webhook and Teams endpoints, a forged Slack click), then working: none of the credentials appears
 * in what the hub logs, records or answers. Slack's and Teams' servers are local stand-ins.
 */
describe('channel credentials, through failures and retries (Slack and Teams by local stand-ins)', () => {
  const smtp = new SmtpReceiver({ user: 'greenlight', pass: SECRETS.smtpPassword });
  const receiver = new WebhookReceiver();
  const slack = new SlackStandIn(SECRETS.slackBotToken);
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { logs.push(chunk.toString()); done(); } }));
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await Promise.all([smtp.start(), receiver.start(), slack.start()]);
    process.env.GREENLIGHT_TEST_WEBHOOK_SECRET = SECRETS.webhook;
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      logger,
      publicUrl: 'http://greenlight.test.example',
      notifiers: {
        allowPrivateNetworks: true,
        webhooks: [{ name: 'audit-sink', url: `${receiver.url}/webhook`, secret: 'env:GREENLIGHT_TEST_WEBHOOK_SECRET' }],
        email: { smtp: { host: '127.0.0.1', port: smtp.port, user: 'greenlight', password: SECRETS.smtpPassword }, from: 'Greenlight <greenlight@example.com>' },
        slack: { botToken: SECRETS.slackBotToken, signingSecret: SECRETS.slackSigningSecret, apiUrl: slack.apiUrl },
        teams: [{ name: 'oncall', url: `${receiver.url}/teams/${SECRETS.teamsCredential}` }],
      },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    const bob = await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'], email: 'bob@example.com' });
    expect(bob.status).toBe(201);
  });
  afterAll(async () => {
    await hub.dispose();
    await Promise.all([smtp.stop(), receiver.close(), slack.close()]);
    delete process.env.GREENLIGHT_TEST_WEBHOOK_SECRET;
  });

  it('never shows a credential in logs, audit events, notifications, API answers or metrics', async () => {
    // Every endpoint refuses its first attempt; mail is refused until the first retry.
    receiver.reply = (_request, seenBefore) => ({ status: seenBefore === 0 ? 500 : 200 });
    smtp.refuseNext = 1;
    slack.rateLimit('chat.postMessage', 1);
    const { body: request } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest());
    // A click whose signature was made with another secret is refused.
    const forged = slackForm({ type: 'block_actions', user: { id: 'U1' }, actions: [{ action_id: 'approve', value: request.id }] });
    expect((await sendToHub(hub.url, forged, slackHeaders('not-the-signing-secret', forged, Math.floor(clock.now().getTime() / 1000)))).status).toBeGreaterThanOrEqual(400);

    const dispatcher = hub.hub.dispatcher;
    const notifications = async () => (await hub.api<{ notifications: { status: string; attempts: number }[] }>('GET', '/api/v1/notifications?limit=100', ADMIN_TOKEN)).body.notifications;
    for (let round = 0; round < 20; round++) {
      await dispatcher.idle();
      const now = await notifications();
      if (now.length >= 4 && now.every((notification) => notification.status === 'delivered')) break;
      clock.advance(5 * 60_000);
      await dispatcher.runNow();
    }
    const final = await notifications();
    expect(final.map((notification) => notification.status)).toEqual(final.map(() => 'delivered'));
    expect(final.length).toBeGreaterThanOrEqual(4);
    expect(final.filter((notification) => notification.attempts > 1).length).toBeGreaterThanOrEqual(4);

    // Each credential was in use: the Teams URL was called, Slack was posted to, mail was refused then sent.
    expect(receiver.received.filter((received) => received.path === `/teams/${SECRETS.teamsCredential}`).length).toBeGreaterThanOrEqual(2);
    expect(slack.callsOf('chat.postMessage').filter((call) => call.answer.ok === true).length).toBeGreaterThanOrEqual(1);
    expect(smtp.refused).toBe(1);
    expect(smtp.to('bob@example.com')).toHaveLength(1);

    const everything = [
      logs.join(''),
      JSON.stringify((await hub.api('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body),
      JSON.stringify((await hub.api('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN)).body),
      JSON.stringify((await hub.api('GET', `/api/v1/requests/${request.id}`, ADMIN_TOKEN)).body),
      JSON.stringify((await hub.api('GET', '/api/v1/me/channels', ADMIN_TOKEN)).body),
      JSON.stringify((await hub.api('GET', '/api/v1/setup', ADMIN_TOKEN)).body),
      JSON.stringify((await hub.api('GET', '/api/v1/policy/explain?action=deploy&resource=api&environment=production', alice.token)).body),
      String((await hub.api('GET', '/metrics', null)).body),
      JSON.stringify(receiver.received.map((received) => received.raw)),
      JSON.stringify(slack.calls.map((call) => call.args)),
    ];
    expect(logs.length).toBeGreaterThan(0);
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const text of everything) expect(text, `${name} appears`).not.toContain(secret);
    }
  });
});
