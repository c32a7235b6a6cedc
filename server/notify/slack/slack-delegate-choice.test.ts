import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest } from '../../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { SlackStandIn, type PostedMessage } from '../../test-support/slack-stand-in.js';
import { buttonsOf, SlackPerson } from '../../test-support/slack-person.js';

const POLICY = `
rules:
  - name: both
    match: { action: migrate }
    require:
      - { group: sre, count: 1 }
      - { group: dba, count: 1 }
    notify: ["slack:#deploys"]
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:#deploys"]
`;
const SIGNING_SECRET = 'slack-signing-secret-for-delegate-choice';
type Audit = { events: { type: string; requestId: string | null; data: Record<string, unknown> }[] };

/**
 * The request's Slack message is one for everyone (the channel's), so a delegate of several approvers
 * who clicks Approve or Deny is asked, in a message only they see, whom they decide for.
 */
describe('Slack, for a delegate of several approvers, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  let hub: TestHub;
  let dev: TestUser, bob: TestUser, carol: TestUser;
  const dave = () => new SlackPerson('U0DAVE', () => hub.url, SIGNING_SECRET, slack);

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', { policy: POLICY, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } } });
    await hub.start();
    dev = await hub.createUser('dev', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['dba']);
    await hub.createUser('dave', ['approver'], ['ops']);
    expect((await hub.api('PATCH', '/api/v1/users/dave', ADMIN_TOKEN, { slackUserId: 'U0DAVE' })).status).toBe(200);
    for (const from of [bob, carol]) {
      const made = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to: 'dave', endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
      expect(made.status).toBe(201);
    }
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  const submit = async (action: string, reason: string) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dev.token, deployRequest({ action, resource: 'orders-db', reason, risk: 'medium' }));
    expect(status, JSON.stringify(body)).toBe(201);
    return body;
  };
  const posted = (requestId: string): Promise<PostedMessage> => slack.until(() => slack.messagesFor(requestId).find((message) => message.channel.startsWith('C')), `the message for ${requestId}`);
  const requestOf = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body;
  const lastEphemeral = () => slack.ephemeralsTo('U0DAVE').at(-1);

  it('answers Approve with a choice only the delegate sees, and counts the vote for the one chosen, in their line', async () => {
    const created = await submit('migrate', 'add the orders index');
    const message = await posted(created.id);
    const before = slack.ephemeralsTo('U0DAVE').length;
    expect((await dave().click(message, 'Approve')).status).toBe(200);
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
    const choice = lastEphemeral();
    expect(slack.ephemeralsTo('U0DAVE')).toHaveLength(before + 1);
    expect(choice?.text).toContain('You stand in for bob and carol on migrate orders-db → production, and vote once: whom do you approve for?');
    expect(buttonsOf(choice!).map((button) => button.text.text)).toEqual(['Approve for bob', 'Approve for carol']);

    expect((await dave().click(choice!, 'Approve for carol')).status).toBe(200);
    expect((await requestOf(created.id)).decisions).toEqual([expect.objectContaining({ approver: 'carol', by: 'dave', decision: 'approve', lines: ['dba'] })]);
    const audit = (await hub.api<Audit>('GET', '/api/v1/audit?type=request.vote&limit=100', ADMIN_TOKEN)).body.events;
    expect(audit.find((event) => event.requestId === created.id)?.data).toMatchObject({ via: 'slack', slackUser: 'U0DAVE', onBehalfOf: 'carol' });
    await slack.until(() => lastEphemeral()?.text === 'Your approval for carol is recorded.', 'the delegate told whom the vote counted for');
    expect(slack.violations).toEqual([]);
  });

  it('answers Deny with the choice too, and the deny form then decides for the one chosen', async () => {
    const created = await submit('migrate', 'rebuild the orders index');
    const message = await posted(created.id);
    const person = dave();
    await person.click(message, 'Deny');
    expect(slack.callsOf('views.open')).toHaveLength(0);
    const choice = lastEphemeral();
    expect(buttonsOf(choice!).map((button) => button.text.text)).toEqual(['Deny for bob', 'Deny for carol']);
    const { triggerId } = await person.click(choice!, 'Deny for bob');
    expect((await person.submitModal(triggerId, 'not during the freeze')).status).toBe(200);
    expect(await requestOf(created.id)).toMatchObject({ status: 'denied', decisions: [expect.objectContaining({ approver: 'bob', by: 'dave', decision: 'deny', comment: 'not during the freeze' })] });
  });

  it('leaves a delegate of one approver one click, as before', async () => {
    const created = await submit('deploy', 'ship the fix');
    const before = slack.ephemeralsTo('U0DAVE').length;
    await dave().click(await posted(created.id), 'Approve');
    expect(await requestOf(created.id)).toMatchObject({ status: 'approved', decisions: [expect.objectContaining({ approver: 'bob', by: 'dave' })] });
    expect(slack.ephemeralsTo('U0DAVE')).toHaveLength(before);
  });

  it('checks the delegation again on the chosen button: one ended since decides nothing, and says why', async () => {
    const created = await submit('migrate', 'drop the old orders index');
    await dave().click(await posted(created.id), 'Approve');
    const choice = lastEphemeral();
    const delegations = (await hub.api<{ delegations: Delegation[] }>('GET', '/api/v1/delegations', bob.token)).body.delegations;
    const toDave = delegations.find((d) => d.to === 'dave' && d.active);
    expect((await hub.api('DELETE', `/api/v1/delegations/${toDave?.id ?? ''}`, bob.token)).status).toBe(200);

    await dave().click(choice!, 'Approve for bob');
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
    await slack.until(() => lastEphemeral()?.text === "You are not bob's delegate now; a delegation covers only its window and its rules.", 'the refusal told to the delegate');

    // Standing in for carol alone now, his click on the request's own Approve is hers at once.
    await dave().click(await posted(created.id), 'Approve');
    expect((await requestOf(created.id)).decisions).toEqual([expect.objectContaining({ approver: 'carol', by: 'dave' })]);
  });
});
