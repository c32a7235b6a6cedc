import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, GreenlightRequest, User } from '../../../protocol/index.js';
import { eventually } from '../../test-support/eventually.js';
import { parsePolicy } from '../../domain/policy.js';
import { ADMIN_TOKEN, deployRequest, TestHub } from '../../test-support/hub-fixture.js';
import { SlackStandIn } from '../../test-support/slack-stand-in.js';
import { sendToHub, slackForm, slackHeaders } from '../../test-support/slack-person.js';

const rule = (notify: string) => `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["${notify}"]
`;

describe('chat targets in the policy', () => {
  it('accepts slack:#channel, slack:dm and a configured teams:NAME, and says what is missing otherwise', () => {
    const configured = { webhooks: new Set<string>(), email: false, teams: new Set(['oncall']), slack: true };
    for (const target of ['slack:#deploys', 'slack:dm', 'teams:oncall']) expect(() => parsePolicy(rule(target), 'policy.yaml', configured)).not.toThrow();
    expect(() => parsePolicy(rule('slack:#deploys'), 'policy.yaml', { webhooks: new Set(), email: false })).toThrow('rule "prod": notify: "slack:#deploys" needs notifiers.slack in the hub configuration');
    expect(() => parsePolicy(rule('teams:ops'), 'policy.yaml', configured)).toThrow('unknown Teams webhook "ops"; configured: oncall');
    expect(() => parsePolicy(rule('slack:deploys'), 'policy.yaml', configured)).toThrow(/slack:#channel/);
  });
});

describe('Slack users, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  const secret = 'signing-secret-for-email-matching';
  let hub: TestHub;

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', {
      policy: rule('slack:#deploys'),
      notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: secret, apiUrl: slack.apiUrl, matchByEmail: true } },
    });
    await hub.start();
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  it('takes slackUserId on POST and PATCH /api/v1/users, once per Slack member, in the shape Slack uses', async () => {
    const created = await hub.api<User>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'gina', roles: ['approver'], groups: ['sre'], slackUserId: 'U0GINA' });
    expect(created.status).toBe(201);
    expect(created.body.slackUserId).toBe('U0GINA');
    const taken = await hub.api<{ error: { code: string; message: string } }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'hank', roles: ['approver'], slackUserId: 'U0GINA' });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'CONFLICT' } } });
    const malformed = await hub.api<{ error: { code: string; message: string } }>('PATCH', '/api/v1/users/gina', ADMIN_TOKEN, { slackUserId: 'gina' });
    expect(malformed).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT' } } });
    expect((await hub.api<User>('PATCH', '/api/v1/users/gina', ADMIN_TOKEN, { slackUserId: null })).body.slackUserId).toBeNull();
  });

  it('with matchByEmail: true, counts the click of a Slack user whose profile email is a Greenlight user\'s', async () => {
    const alice = await hub.api<{ token: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] });
    await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'frank', roles: ['approver'], groups: ['sre'], email: 'Frank@Example.com' });
    slack.emails.set('U0FRANK', 'frank@example.com');
    const { body: created } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.body.token, deployRequest({ risk: 'low' }));
    const body = slackForm({ type: 'block_actions', user: { id: 'U0FRANK' }, trigger_id: 't', channel: { id: 'C1' }, actions: [{ action_id: 'greenlight_approve', value: created.id }] });
    expect((await sendToHub(hub.url, body, slackHeaders(secret, body, Math.floor(Date.now() / 1000)))).status).toBe(200);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.id}`, ADMIN_TOKEN)).body).toMatchObject({ status: 'approved', decidedBy: 'frank' });
    expect(slack.callsOf('users.info').map((call) => call.args.user)).toContain('U0FRANK');
  });

  it('an email never outweighs a link to another Slack account, an unconfirmed one counts for nothing, and the decision records who clicked', async () => {
    const requester = await hub.api<{ token: string }>('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'ines', roles: ['requester'] });
    await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'gus', roles: ['approver'], groups: ['sre'], email: 'gus@example.com', slackUserId: 'U0GUS' });
    await hub.api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'henry', roles: ['approver'], groups: ['sre'], email: 'henry@example.com' });
    slack.emails.set('U0MALLORY', 'GUS@example.com');
    slack.emails.set('U0HENRY', 'henry@example.com');
    slack.unconfirmedEmails.add('U0HENRY');
    const { body: created } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', requester.body.token, deployRequest({ risk: 'low' }));
    const click = async (slackUser: string) => {
      const body = slackForm({ type: 'block_actions', user: { id: slackUser }, trigger_id: 't', channel: { id: 'C1' }, actions: [{ action_id: 'greenlight_approve', value: created.id }] });
      expect((await sendToHub(hub.url, body, slackHeaders(secret, body, Math.floor(Date.now() / 1000)))).status).toBe(200);
    };
    const told = () => slack.callsOf('chat.postEphemeral').map((call) => String(call.args.text));

    await click('U0MALLORY');
    expect(told().at(-1)).toContain("gus is linked to another Slack account, so this click did nothing");
    await click('U0HENRY');
    expect(told().at(-1)).toContain('not linked to a Greenlight user');
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.id}`, ADMIN_TOKEN)).body.status).toBe('pending');

    await click('U0GUS');
    const approved = await eventually(async () => {
      const events = (await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?type=request.approved`, ADMIN_TOKEN)).body.events;
      return events.find((event) => event.requestId === created.id);
    }, { what: 'the approval' });
    expect(approved).toMatchObject({ actor: 'gus', data: { via: 'slack', slackUser: 'U0GUS', matchedBy: 'link' } });
  });
});
