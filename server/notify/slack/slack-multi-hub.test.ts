import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { postgresAvailability } from '../../test-support/postgres.js';
import { SlackStandIn, type PostedMessage } from '../../test-support/slack-stand-in.js';
import { sendToHub, slackForm, slackHeaders } from '../../test-support/slack-person.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:#deploys"]
`;
const SIGNING_SECRET = 'slack-signing-secret-for-two-hubs';

describe.skipIf(!pg.ok)(`Slack with two hubs on one PostgreSQL database, against a local Slack API stand-in${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const slack = new SlackStandIn();
  const options = () => ({ policy: POLICY, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } } });
  let hubA: TestHub, hubB: TestHub;
  let alice: TestUser, carol: TestUser;

  beforeAll(async () => {
    await slack.start();
    hubA = new TestHub('postgres', options());
    await hubA.start();
    hubB = new TestHub('postgres', options());
    hubB.databaseUrl = hubA.databaseUrl;
    await hubB.start();
    alice = await hubA.createUser('alice', ['requester']);
    await hubA.createUser('bob', ['approver'], ['sre']);
    carol = await hubA.createUser('carol', ['approver'], ['sre']);
    expect((await hubA.api('PATCH', '/api/v1/users/bob', ADMIN_TOKEN, { slackUserId: 'U0BOB' })).status).toBe(200);
  });
  afterAll(async () => {
    await hubB.stop().catch(() => undefined);
    await hubA.dispose();
    await hubB.dispose();
    await slack.close();
  });

  const submit = async (hub: TestHub) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ risk: 'medium' }));
    expect(status).toBe(201);
    return body;
  };
  const posted = (requestId: string) => slack.until(() => slack.messagesFor(requestId)[0], `the message for ${requestId}`);
  const updatedUntil = (message: PostedMessage, text: string) =>
    slack.until(() => {
      const current = slack.messages.get(`${message.channel}/${message.ts}`);
      return current && JSON.stringify(current.blocks).includes(text) && current;
    }, `an update saying ${text}`);

  it('refuses on hub A a signed click already accepted by hub B', async () => {
    const created = await submit(hubA);
    const message = await posted(created.id);
    expect(slack.messagesFor(created.id)).toHaveLength(1);
    const body = slackForm({ type: 'block_actions', user: { id: 'U0BOB' }, trigger_id: 't1', channel: { id: message.channel }, actions: [{ action_id: 'greenlight_approve', value: created.id }] });
    const headers = slackHeaders(SIGNING_SECRET, body, Math.floor(Date.now() / 1000));
    expect((await sendToHub(hubB.url, body, headers)).status).toBe(200);
    expect((await sendToHub(hubA.url, body, headers)).status).toBe(401);
    expect((await hubA.api<GreenlightRequest>('GET', `/api/v1/requests/${created.id}`, ADMIN_TOKEN)).body).toMatchObject({ status: 'approved', decidedBy: 'bob' });
    await updatedUntil(message, 'by bob');
  });

  it('updates the message hub A posted when the request is decided on hub B, with hub A gone', async () => {
    const created = await submit(hubA);
    const message = await posted(created.id);
    await hubA.hub.dispatcher.idle();
    await hubA.stop();
    expect((await hubB.api('POST', `/api/v1/requests/${created.id}/decisions`, carol.token, { decision: 'approve' })).status).toBe(200);
    const after = await updatedUntil(message, 'by carol');
    expect(JSON.stringify(after.blocks)).toContain('Approved');
    expect(slack.messagesFor(created.id)).toHaveLength(1);
    expect(slack.violations).toEqual([]);
  });
});
