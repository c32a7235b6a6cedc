import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
import { ManualClock } from '../../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:dm"]
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`;

const APPROVERS = ['U0BOB', 'U0CAROL', 'U0ERIN'];

describe('a break-glass alert to Slack direct messages, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let dave: TestUser;

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: 'slack-signing-secret-for-tests', apiUrl: slack.apiUrl } },
    });
    await hub.start();
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    await hub.createUser('sue', ['approver'], ['security']);
    for (const [name, id] of [['bob', 'U0BOB'], ['carol', 'U0CAROL'], ['erin', 'U0ERIN']] as const) {
      await hub.createUser(name, ['approver'], ['sre']);
      expect((await hub.api('PATCH', `/api/v1/users/${name}`, ADMIN_TOKEN, { slackUserId: id })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  it('pages each approver once when the post to the second fails and the outbox retries the delivery', async () => {
    slack.failPost(2);
    const { status } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ reason: 'database is down, customers cannot pay', breakGlass: { incident: 'INC-7' } }));
    expect(status).toBe(201);
    await slack.until(() => slack.callsOf('chat.postMessage').some((call) => call.answer.error === 'service_unavailable'), 'the failed post');
    await hub.hub.dispatcher.idle();

    // Past the outbox's first wait (5 s + 10 % jitter): the delivery is tried again.
    clock.advance(6_000);
    await hub.hub.dispatcher.runNow();
    await hub.hub.dispatcher.idle();

    const alerts = slack.callsOf('chat.postMessage').filter((call) => call.answer.ok === true && String(call.args.text).startsWith(':rotating_light: URGENT'));
    const perApprover = APPROVERS.map((id) => alerts.filter((call) => call.args.channel === `D${id}`).length);
    expect(perApprover).toEqual([1, 1, 1]);
  });
});
