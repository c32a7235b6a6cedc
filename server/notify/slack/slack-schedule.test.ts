import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../../protocol/index.js';
import { ManualClock } from '../../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:#deploys", "slack:dm"]
    escalation:
      - { after: 5m, notify: [leads], channels: ["slack:#leads"] }
    expireAfter: 20m
`;

describe('Slack through escalation and expiry, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  const clock = new ManualClock(new Date(Date.now() - 60_000));
  let hub: TestHub;
  let alice: TestUser;

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', { policy: POLICY, clock, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: 'secret', apiUrl: slack.apiUrl } } });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('lena', ['lead'], ['leads']);
    await hub.api('PATCH', '/api/v1/users/bob', ADMIN_TOKEN, { slackUserId: 'U0BOB' });
    await hub.api('PATCH', '/api/v1/users/lena', ADMIN_TOKEN, { slackUserId: 'U0LENA' });
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  const advance = async (ms: number) => {
    await hub.hub.dispatcher.idle();
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
    await hub.hub.dispatcher.runNow();
  };
  const channels = (requestId: string) => slack.messagesFor(requestId).map((message) => message.channel).sort();

  it('posts to the step\'s channel and messages the new approvers when the request escalates, then shows every message as expired', async () => {
    const { body: created } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    await slack.until(() => channels(created.id).length === 2, 'the channel post and bob\'s message');
    expect(channels(created.id)).toEqual([expect.stringMatching(/^C/), 'DU0BOB']);

    await advance(5 * 60_000);
    await slack.until(() => channels(created.id).length === 4, 'the escalation posts');
    expect(channels(created.id).filter((channel) => channel.startsWith('D'))).toEqual(['DU0BOB', 'DU0LENA']);
    const leads = slack.callsOf('chat.postMessage').filter((call) => call.args.channel === '#leads');
    expect(leads).toHaveLength(1);
    expect(slack.callsOf('chat.postMessage').filter((call) => call.args.channel === '#deploys' && JSON.stringify(call.args).includes(created.id))).toHaveLength(1);

    await advance(15 * 60_000);
    for (const message of slack.messagesFor(created.id)) {
      await slack.until(() => JSON.stringify(slack.messages.get(`${message.channel}/${message.ts}`)?.blocks).includes('Expired'), `${message.channel} showing the expiry`);
    }
    expect(slack.violations).toEqual([]);
  });
});

describe('Slack refusing every call, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  const clock = new ManualClock(new Date(Date.now() - 60_000));
  let hub: TestHub;

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', { policy: POLICY, clock, notifiers: { allowPrivateNetworks: true, slack: { botToken: 'xoxb-revoked-token', signingSecret: 'secret', apiUrl: slack.apiUrl } } });
    await hub.start();
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  it('retries on the outbox schedule, then dead-letters the post: audited, counted by channel, listed as failed', async () => {
    const alice = await hub.createUser('alice', ['requester']);
    const { body: created } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'low' }));
    const notifications = async () => (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=100', ADMIN_TOKEN)).body.notifications;
    const post = () => notifications().then((all) => all.find((n) => n.requestId === created.id && n.destination === 'slack:#deploys'));
    for (let attempt = 1; attempt < 10; attempt++) {
      await slack.until(() => slack.callsOf('chat.postMessage').length >= attempt, `attempt ${attempt}`);
      await hub.hub.dispatcher.idle();
      const row = await post();
      expect(row).toMatchObject({ status: 'pending', attempts: attempt, lastError: 'Slack refused the call: invalid_auth' });
      clock.set(row?.nextAttemptAt ?? '');
      await hub.hub.dispatcher.runNow();
    }
    await slack.until(() => slack.callsOf('chat.postMessage').length >= 10, 'the last attempt');
    await hub.hub.dispatcher.idle();
    expect(await post()).toMatchObject({ status: 'failed', attempts: 10 });
    const audit = await hub.api<{ events: { data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=notification.dead&limit=100', ADMIN_TOKEN);
    expect(audit.body.events.map((event) => event.data)).toContainEqual(expect.objectContaining({ channel: 'slack', destination: 'slack:#deploys', attempts: 10 }));
    const metrics = (await hub.api<string>('GET', '/metrics', null)).body;
    expect(metrics).toMatch(/greenlight_notifications_total\{channel="slack",outcome="dead"\} [1-9]/);
  });
});
