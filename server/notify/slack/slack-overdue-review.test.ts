import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../../protocol/index.js';
import { ManualClock } from '../../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:dm", "slack:#sec-ops"]
    escalation:
      - { after: 10m, notify: [security-leads] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`;

const DAY = 24 * 3_600_000;

describe('an overdue break-glass review in Slack, against a local Slack API stand-in', () => {
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
    for (const [name, role, group, id] of [['bob', 'approver', 'sre', 'U0BOB'], ['sue', 'approver', 'security', 'U0SUE'], ['lena', 'lead', 'security-leads', 'U0LENA']] as const) {
      await hub.createUser(name, [role], [group]);
      expect((await hub.api('PATCH', `/api/v1/users/${name}`, ADMIN_TOKEN, { slackUserId: id })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  /** Where alerts starting with `headline` were posted: direct messages by member, and how many went to channels. */
  const alertsPosted = (headline: string) => {
    const posts = slack.callsOf('chat.postMessage').filter((call) => call.answer.ok === true && String(call.args.text).startsWith(`:rotating_light: URGENT: ${headline}`));
    const channels = posts.map((call) => String(call.answer.channel));
    return { directTo: channels.filter((channel) => channel.startsWith('D')).sort(), inChannels: channels.filter((channel) => !channel.startsWith('D')).length };
  };

  it('posts the overdue alert to the channel and messages the reviewer and the lead chasing it, not the rule\'s approvers', async () => {
    const { status } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ reason: 'database is down, customers cannot pay', breakGlass: { incident: 'INC-4450' } }));
    expect(status).toBe(201);
    await hub.hub.dispatcher.idle();
    // The use is news for the rule's approvers and its reviewers alike.
    expect(alertsPosted('Break-glass by dave')).toEqual({ directTo: ['DU0BOB', 'DU0SUE'], inChannels: 1 });

    clock.advance(DAY);
    await hub.hub.scheduler.runNow();
    await hub.hub.dispatcher.idle();
    expect(alertsPosted('Break-glass review overdue: dave on prod-db, INC-4450')).toEqual({ directTo: ['DU0LENA', 'DU0SUE'], inChannels: 1 });
  });

  it('does not chase, once Slack is back, a break-glass review made while Slack was down, naming who reviewed it for whom (against the local Slack API stand-in)', async () => {
    const sam = await hub.createUser('sam', ['approver'], ['security']);
    // Tia reviews nothing of her own: she reviews for sam, as his delegate.
    const tia = await hub.createUser('tia', ['approver'], ['devs']);
    const endsAt = new Date(clock.now().getTime() + 7 * DAY).toISOString();
    expect((await hub.api('POST', '/api/v1/delegations', sam.token, { to: 'tia', endsAt, reason: 'holiday' })).status).toBe(201);
    const olga = await hub.createUser('olga', ['requester'], ['oncall']);
    const { status, body: used } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', olga.token, deployRequest({ reason: 'queue is stuck, orders are not shipping', breakGlass: { incident: 'INC-10' } }));
    expect(status).toBe(201);
    await hub.hub.dispatcher.idle();

    slack.unavailable = true;
    clock.advance(DAY);
    await hub.hub.scheduler.runNow();
    await hub.hub.dispatcher.idle();
    // Rows written in the same millisecond list in no set order: by destination, for the comparisons below.
    const overdueRows = async () =>
      (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=200', ADMIN_TOKEN)).body.notifications
        .filter((row) => row.requestId === used.id && row.type === 'request.break_glass_overdue')
        .sort((a, b) => a.destination.localeCompare(b.destination));
    expect((await overdueRows()).map((row) => [row.destination, row.status, row.lastStatus])).toEqual([
      ['slack:#sec-ops', 'pending', 503],
      ['slack:dm', 'pending', 503],
    ]);
    const reviewed = await hub.api('POST', `/api/v1/requests/${used.id}/review`, tia.token, { outcome: 'ratified', comment: 'checked with the incident lead' });
    expect(reviewed.status).toBe(200);

    slack.unavailable = false;
    clock.advance(3_600_000);
    await hub.hub.dispatcher.runNow();
    await hub.hub.dispatcher.idle();
    expect(alertsPosted('Break-glass review overdue: olga on prod-db, INC-10')).toEqual({ directTo: [], inChannels: 0 });
    const reason = 'not posted: the break-glass was ratified by tia for sam before this alert could go out';
    expect(await overdueRows()).toMatchObject([
      { status: 'failed', lastError: reason },
      { status: 'failed', lastError: reason },
    ]);
  });
});
