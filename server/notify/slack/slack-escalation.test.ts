import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
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
