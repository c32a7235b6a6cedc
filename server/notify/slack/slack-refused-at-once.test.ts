import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
import { ManualClock } from '../../clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { SlackStandIn, type PostedMessage } from '../../test-support/slack-stand-in.js';
import { SlackPerson } from '../../test-support/slack-person.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    expireAfter: 20m
    notify: ["slack:#deploys"]
  - name: pair
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    notify: ["slack:#deploys"]
  - name: console-only
    match: { action: db-open }
    approvers: [sre]
    chatApprove: false
    notify: ["slack:#deploys"]
`;
const SIGNING_SECRET = 'slack-signing-secret-for-refusals';
const MINUTE = 60_000;

/**
 * What a click is refused with is said at once, in the words Approve is told: a Deny that can only be
 * refused opens no form to type a reason into, and a rule's chatApprove: false is named only to
 * someone the click would otherwise be let through for.
 */
describe('Slack clicks refused at once, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  // Near the real time: Slack's signatures are checked against the hub's clock.
  const clock = new ManualClock(new Date(Date.now() - MINUTE));
  let hub: TestHub;
  let alice: TestUser;
  // One per member: each click then carries its own trigger id, so two alike in one second are no replay.
  const people = new Map<string, SlackPerson>();
  const person = (slackUserId: string): SlackPerson => {
    const known = people.get(slackUserId) ?? new SlackPerson(slackUserId, () => hub.url, SIGNING_SECRET, slack, () => clock.now().getTime());
    people.set(slackUserId, known);
    return known;
  };

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', { policy: POLICY, clock, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } } });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('dave', ['approver'], ['dba']);
    await hub.createUser('erin', ['approver'], ['sre']);
    for (const [name, id] of [['alice', 'U0ALICE'], ['bob', 'U0BOB'], ['dave', 'U0DAVE'], ['erin', 'U0ERIN']]) {
      expect((await hub.api('PATCH', `/api/v1/users/${name}`, ADMIN_TOKEN, { slackUserId: id })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  const submit = async (action: string) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action, risk: 'medium' }));
    expect(status, JSON.stringify(body)).toBe(201);
    return body;
  };
  const posted = (requestId: string): Promise<PostedMessage> => slack.until(() => slack.messagesFor(requestId).find((message) => message.channel.startsWith('C')), `the message for ${requestId}`);
  const requestOf = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body;

  /** What `slackUserId` is told, privately, on clicking `label` on `message`; and that no deny form opened for the click. */
  const toldOn = async (slackUserId: string, message: PostedMessage, label: string): Promise<string> => {
    const before = slack.ephemeralsTo(slackUserId).length;
    const { status, triggerId } = await person(slackUserId).click(message, label);
    expect(status).toBe(200);
    // A deny form opens before Slack is answered, so none by now is none at all.
    expect(slack.callsOf('views.open').filter((call) => call.args.trigger_id === triggerId).map((call) => call.args.trigger_id), `a deny form for ${slackUserId}`).toEqual([]);
    // Approve is answered within Slack's 3 s and may tell its outcome just after: waited for, not assumed.
    const said = await slack.until(() => slack.ephemeralsTo(slackUserId).length > before && slack.ephemeralsTo(slackUserId).slice(before), `what ${slackUserId} is told on ${label}`);
    expect(said.map((each) => each.text), `${slackUserId} on ${label}`).toHaveLength(1);
    return said[0]!.text;
  };

  /** The request's own Approve and Deny buttons, as a crafted message (a chatApprove: false request's message has none). */
  const craftedButtons = (requestId: string, channel: string): PostedMessage => ({
    channel,
    ts: '1700000000.000002',
    text: 'crafted',
    updates: 0,
    blocks: [
      {
        type: 'actions',
        block_id: 'decide',
        elements: [
          { type: 'button', action_id: 'greenlight_approve', value: requestId, text: { type: 'plain_text', text: 'Approve' } },
          { type: 'button', action_id: 'greenlight_deny', value: requestId, text: { type: 'plain_text', text: 'Deny' } },
        ],
      },
    ],
  });

  it('refuses Deny at once on a request past its expiry that the scheduler has not reached, as Approve is, and opens no form', async () => {
    const [onApprove, onDeny] = [await submit('deploy'), await submit('deploy')];
    const [approveMessage, denyMessage] = [await posted(onApprove.id), await posted(onDeny.id)];
    // Time jumps without the timers running: as when the hub was down while the requests fell due.
    clock.set(new Date(clock.now().getTime() + 21 * MINUTE));
    const approveTold = await toldOn('U0BOB', approveMessage, 'Approve');
    expect(approveTold).toMatch(/^This request expired at \S+; nothing to decide\. Submit it again if it is still needed\.$/);
    expect(await toldOn('U0BOB', denyMessage, 'Deny')).toBe(approveTold);
    expect(await requestOf(onDeny.id)).toMatchObject({ status: 'expired', decisions: [] });
    // The click expired it, as a vote would: its message stops offering buttons that can only be refused.
    await slack.until(() => JSON.stringify(slack.messages.get(`${denyMessage.channel}/${denyMessage.ts}`)?.blocks).includes('Expired'), 'the Deny message showing the expiry');
  });

  it('refuses Deny at once to an approver who already voted on a request that needs two, as Approve is, and opens no form', async () => {
    const created = await submit('migrate');
    const message = await posted(created.id);
    const before = slack.ephemeralsTo('U0BOB').length;
    expect((await person('U0BOB').click(message, 'Approve')).status).toBe(200);
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', approvals: 1 });
    expect(slack.ephemeralsTo('U0BOB')).toHaveLength(before);

    const approveTold = await toldOn('U0BOB', message, 'Approve');
    expect(approveTold).toBe('You already voted to approve this request; it needs another approver.');
    expect(await toldOn('U0BOB', message, 'Deny')).toBe(approveTold);
    expect((await requestOf(created.id)).decisions).toEqual([expect.objectContaining({ approver: 'bob', decision: 'approve' })]);
  });

  it('refuses Deny at once to an approver disabled since the message was posted, as Approve is, and opens no form', async () => {
    const created = await submit('deploy');
    const message = await posted(created.id);
    expect((await hub.api('POST', '/api/v1/users/erin/disable', ADMIN_TOKEN)).status).toBe(200);
    const approveTold = await toldOn('U0ERIN', message, 'Approve');
    expect(approveTold).toBe('Your Greenlight user erin is disabled, so this click did nothing.');
    expect(await toldOn('U0ERIN', message, 'Deny')).toBe(approveTold);
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('names a rule\'s chatApprove: false only to an approver: an outsider, the requester and an unlinked member are told what they would be on any request', async () => {
    const created = await submit('db-open');
    const { channel } = await posted(created.id);
    const buttons = craftedButtons(created.id, channel);
    const cases: [string, string | RegExp][] = [
      ['U0DAVE', 'You are not an approver for this request; nothing was decided.'],
      ['U0ALICE', 'You cannot decide your own request; another approver has to.'],
      ['U0NOBODY', /^Your Slack account is not linked to a Greenlight user, so this click did nothing\./],
      ['U0BOB', 'This rule asks for decisions in Greenlight itself: use "Open in Greenlight".'],
    ];
    for (const [slackUserId, told] of cases) {
      for (const label of ['Approve', 'Deny']) {
        const said = await toldOn(slackUserId, buttons, label);
        if (typeof told === 'string') expect(said, `${slackUserId} on ${label}`).toBe(told);
        else expect(said, `${slackUserId} on ${label}`).toMatch(told);
      }
    }
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('refuses a deny form for a chatApprove: false rule\'s request that no click opened, in the words the click is told', async () => {
    const created = await submit('db-open');
    const { channel } = await posted(created.id);
    // Slack hands back the form's metadata as the hub set it; a submission nothing opened carries its own.
    const metadata = JSON.stringify({ requestId: created.id, channel });
    const cases: [string, string][] = [
      ['U0DAVE', 'You are not an approver for this request; nothing was decided.'],
      ['U0ALICE', 'You cannot decide your own request; another approver has to.'],
      ['U0BOB', 'This rule asks for decisions in Greenlight itself: use "Open in Greenlight".'],
    ];
    for (const [slackUserId, told] of cases) {
      const { status, text } = await person(slackUserId).submitForm('greenlight_deny_reason', metadata, 'not today');
      expect(status, slackUserId).toBe(200);
      expect(text === '' ? 'the form was accepted' : JSON.parse(text), slackUserId).toEqual({ response_action: 'errors', errors: { reason: told } });
      // Shown on the form where the reason was typed, in the words the same person's click is told.
      expect(told).toBe(await toldOn(slackUserId, craftedButtons(created.id, channel), 'Deny'));
    }
    expect(await requestOf(created.id)).toMatchObject({ status: 'pending', decisions: [] });
  });
});
