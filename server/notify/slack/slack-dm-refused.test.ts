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

type Notifications = { notifications: { requestId: string | null; status: string; lastError: string | null }[] };

// An admin mistyped one approver's Slack member id, or the account was deleted in Slack.
describe('Slack direct messages when Slack refuses one approver, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  const clock = new ManualClock(new Date());
  let hub: TestHub;
  let dave: TestUser;

  beforeAll(async () => {
    await slack.start();
    slack.unknownUsers.add('U0GONE');
    hub = new TestHub('sqlite', {
      policy: POLICY,
      clock,
      notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: 'slack-signing-secret-for-tests', apiUrl: slack.apiUrl } },
    });
    await hub.start();
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    await hub.createUser('sue', ['approver'], ['security']);
    // First in every order the hub might read them in.
    for (const [name, id] of [['amy', 'U0GONE'], ['bob', 'U0BOB'], ['carol', 'U0CAROL'], ['erin', 'U0ERIN']] as const) {
      await hub.createUser(name, ['approver'], ['sre']);
      expect((await hub.api('PATCH', `/api/v1/users/${name}`, ADMIN_TOKEN, { slackUserId: id })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  const postedTo = (pattern: RegExp) => slack.callsOf('chat.postMessage').filter((call) => call.answer.ok === true && pattern.test(String(call.args.text))).map((call) => String(call.args.channel)).sort();

  it('still messages every other approver, and the notification says what Slack refused', async () => {
    const { body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ resource: 'orders-db' }));
    await slack.until(() => slack.callsOf('conversations.open').length >= 4, 'a direct message opened to each approver');
    await hub.hub.dispatcher.idle();
    expect(postedTo(/orders-db/)).toEqual(['DU0BOB', 'DU0CAROL', 'DU0ERIN']);
    const listed = await hub.api<Notifications>('GET', '/api/v1/notifications', ADMIN_TOKEN);
    expect(listed.body.notifications.find((row) => row.requestId === body.id)).toMatchObject({ status: 'pending', lastError: 'Slack refused the call: user_not_found' });
  });

  it('pages every other approver with a break-glass alert', async () => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ resource: 'payments-db', reason: 'the payments database is down, customers cannot pay', breakGlass: { incident: 'INC-9' } }));
    expect(status, JSON.stringify(body)).toBe(201);
    await slack.until(() => postedTo(/^:rotating_light: URGENT/).length >= 3, 'the alert to each approver Slack knows');
    await hub.hub.dispatcher.idle();
    expect(postedTo(/^:rotating_light: URGENT/)).toEqual(['DU0BOB', 'DU0CAROL', 'DU0ERIN']);
  });
});
