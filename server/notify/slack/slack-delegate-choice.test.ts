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
  let dev: TestUser, bob: TestUser, carol: TestUser, frank: TestUser;
  const dave = () => new SlackPerson('U0DAVE', () => hub.url, SIGNING_SECRET, slack);
  const erin = () => new SlackPerson('U0ERIN', () => hub.url, SIGNING_SECRET, slack);

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', { policy: POLICY, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } } });
    await hub.start();
    dev = await hub.createUser('dev', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['dba']);
    await hub.createUser('dave', ['approver'], ['ops']);
    // Erin is an sre, so an approver herself, and stands in for carol (dba) too.
    await hub.createUser('erin', ['approver'], ['sre']);
    frank = await hub.createUser('frank', ['approver'], ['sre']);
    expect((await hub.api('PATCH', '/api/v1/users/dave', ADMIN_TOKEN, { slackUserId: 'U0DAVE' })).status).toBe(200);
    expect((await hub.api('PATCH', '/api/v1/users/erin', ADMIN_TOKEN, { slackUserId: 'U0ERIN' })).status).toBe(200);
    for (const [from, to] of [[bob, 'dave'], [carol, 'dave'], [carol, 'erin']] as const) {
      const made = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to, endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
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

  it('leaves a delegate of one approver one click, as before; a later Approve or Deny is told, alike, it is decided', async () => {
    const created = await submit('deploy', 'ship the fix');
    const message = await posted(created.id);
    const before = slack.ephemeralsTo('U0DAVE').length;
    await dave().click(message, 'Approve');
    expect(await requestOf(created.id)).toMatchObject({ status: 'approved', decisions: [expect.objectContaining({ approver: 'bob', by: 'dave' })] });
    expect(slack.ephemeralsTo('U0DAVE')).toHaveLength(before);

    for (const label of ['Approve', 'Deny']) {
      const told = slack.ephemeralsTo('U0DAVE').length;
      await dave().click(message, label);
      const said = await slack.until(() => slack.ephemeralsTo('U0DAVE').length > told && slack.ephemeralsTo('U0DAVE').slice(told).map((each) => each.text), `what dave is told on ${label}`);
      expect(said, label).toEqual(['This request is already approved by dave for bob; nothing to decide.']);
    }
  });

  it('asks an approver who stands in for someone too whom they decide for, "as yourself" first', async () => {
    const created = await submit('migrate', 'vacuum the orders table');
    const message = await posted(created.id);
    const before = slack.ephemeralsTo('U0ERIN').length;
    await erin().click(message, 'Approve');
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
    expect(slack.ephemeralsTo('U0ERIN')).toHaveLength(before + 1);
    const choice = slack.ephemeralsTo('U0ERIN').at(-1)!;
    expect(choice.text).toContain('You are an approver of migrate orders-db → production and stand in for carol, and vote once: whom do you approve for?');
    expect(buttonsOf(choice).map((button) => button.text.text)).toEqual(['Approve as yourself', 'Approve for carol']);
    await erin().click(choice, 'Approve as yourself');
    const decisions = (await requestOf(created.id)).decisions;
    expect(decisions).toEqual([expect.objectContaining({ approver: 'erin', decision: 'approve', lines: ['sre'] })]);
    expect(decisions[0]?.by).toBeUndefined();
    await slack.until(() => slack.ephemeralsTo('U0ERIN').at(-1)?.text === 'Your approval is recorded.', 'erin told her own approval is recorded');

    // The same on Deny: the form then decides for the one chosen.
    const other = await submit('migrate', 'reindex the orders table');
    const person = erin();
    await person.click(await posted(other.id), 'Deny');
    const denyChoice = slack.ephemeralsTo('U0ERIN').at(-1)!;
    expect(buttonsOf(denyChoice).map((button) => button.text.text)).toEqual(['Deny as yourself', 'Deny for carol']);
    const { triggerId } = await person.click(denyChoice, 'Deny for carol');
    expect((await person.submitModal(triggerId, 'wait for the backup')).status).toBe(200);
    expect(await requestOf(other.id)).toMatchObject({ status: 'denied', decisions: [expect.objectContaining({ approver: 'carol', by: 'erin', decision: 'deny' })] });
  });

  it('leaves an approver one click where their vote can count one way only, for whom it counts', async () => {
    // Carol is no approver of a deploy: erin approves it as herself at once.
    const deploy = await submit('deploy', 'ship the hotfix');
    const before = slack.ephemeralsTo('U0ERIN').length;
    await erin().click(await posted(deploy.id), 'Approve');
    expect(await requestOf(deploy.id)).toMatchObject({ status: 'approved', decisions: [expect.objectContaining({ approver: 'erin' })] });
    expect(slack.ephemeralsTo('U0ERIN')).toHaveLength(before);

    // With the sre line full, her own vote would not count: her click is counted for carol.
    const migrate = await submit('migrate', 'split the orders table');
    const vote = await hub.api('POST', `/api/v1/requests/${migrate.id}/decisions`, frank.token, { decision: 'approve' });
    expect(vote.status).toBe(200);
    await erin().click(await posted(migrate.id), 'Approve');
    expect(await requestOf(migrate.id)).toMatchObject({ status: 'approved', decisions: [expect.objectContaining({ approver: 'frank' }), expect.objectContaining({ approver: 'carol', by: 'erin', lines: ['dba'] })] });
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

  const notOurs = 'This button is not one Greenlight made; decide in Greenlight instead ("Open in Greenlight").';
  /** What dave is told, privately, on a click on a button made elsewhere (none of its clicks opening the deny form). */
  const toldOnForged = async (channel: string, actionId: string, buttonValue: string | undefined): Promise<string[]> => {
    const forged: PostedMessage = {
      channel,
      ts: '1700000000.000001',
      text: 'whom do you decide for?',
      updates: 0,
      blocks: [{ type: 'actions', block_id: 'decide_for', elements: [{ type: 'button', action_id: actionId, text: { type: 'plain_text', text: 'Decide' }, ...(buttonValue === undefined ? {} : { value: buttonValue }) }] }],
    };
    const before = slack.ephemeralsTo('U0DAVE').length;
    const { status, triggerId } = await dave().click(forged, 'Decide');
    expect(status).toBe(200);
    const said = await slack.until(() => slack.ephemeralsTo('U0DAVE').length > before && slack.ephemeralsTo('U0DAVE').slice(before).map((message) => message.text), `what dave is told on ${actionId}`);
    expect(slack.callsOf('views.open').some((call) => call.args.trigger_id === triggerId)).toBe(false);
    return said;
  };

  it('refuses a choice button Greenlight did not make, privately, and decides nothing: for someone he stands in for by no delegation, disagreeing with itself, on no request; Approve and Deny in the same words', async () => {
    const created = await submit('migrate', 'rename the orders column');
    const { channel } = await posted(created.id);
    const value = (requestId: string, onBehalfOf: string) => JSON.stringify({ requestId, onBehalfOf });
    const cases: { named: string; value: string; told: string }[] = [
      { named: 'frank', value: value(created.id, 'frank'), told: "You are not frank's delegate now; a delegation covers only its window and its rules." },
      // The button says bob and its value carol (whom he does stand in for): whom he meant is a guess, so neither.
      { named: 'bob', value: value(created.id, 'carol'), told: notOurs },
      { named: 'carol', value: value('no-such-request', 'carol'), told: 'No request no-such-request.' },
      { named: 'carol', value: 'carol', told: notOurs },
    ];
    for (const { named, value: buttonValue, told } of cases) {
      for (const decision of ['approve', 'deny']) {
        expect(await toldOnForged(channel, `greenlight_${decision}_for:${named}`, buttonValue), `${decision} for ${named}: ${buttonValue}`).toEqual([told]);
      }
    }
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('refuses a plain Approve or Deny button whose value is no request id as one Greenlight did not make: none, empty, too long, not an id', async () => {
    const created = await submit('migrate', 'reorder the orders columns');
    const { channel } = await posted(created.id);
    for (const buttonValue of [undefined, '', 'r'.repeat(65), 'req 1; drop'] as const) {
      for (const actionId of ['greenlight_approve', 'greenlight_deny']) {
        expect(await toldOnForged(channel, actionId, buttonValue), `${actionId} valued ${String(buttonValue)}`).toEqual([notOurs]);
      }
    }
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
  });
});
