import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { postgresAvailability } from '../../test-support/postgres.js';
import { SlackStandIn, type PostedMessage } from '../../test-support/slack-stand-in.js';
import { SlackPerson } from '../../test-support/slack-person.js';

const pgUp = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:#deploys"]
  - name: console-only
    match: { action: db-open }
    approvers: [sre]
    chatApprove: false
    notify: ["slack:#deploys"]
`;
const SIGNING_SECRET = 'slack-signing-secret-for-unlocked-reads';
/** How long a click is given to be answered while the chain's head is held, before the head is let go regardless. */
const HELD_AT_MOST_MS = 5_000;

/**
 * Every write in the hub takes the audit chain's head first. What a Deny click (or any click on a
 * chatApprove: false rule) is asked before a form opens or a refusal is said only reads, so it must
 * not queue behind the head, nor make the hub's writes queue behind it. A raw session holding the
 * head stands in for a long write.
 */
describe.skipIf(!pgUp.ok)(`Slack clicks that only read, on PostgreSQL, against a local Slack API stand-in${pgUp.ok ? '' : ` (skipped: ${pgUp.reason})`}`, () => {
  const slack = new SlackStandIn();
  let hub: TestHub;
  let alice: TestUser;
  const person = (slackUserId: string) => new SlackPerson(slackUserId, () => hub.url, SIGNING_SECRET, slack);

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('postgres', { policy: POLICY, notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } } });
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('dave', ['approver'], ['dba']);
    for (const [name, id] of [['bob', 'U0BOB'], ['dave', 'U0DAVE']]) {
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

  /**
   * Clicks while another session holds the chain's head, and lets go of it once the click is answered
   * (or after HELD_AT_MOST_MS): returns the order the two happened in.
   */
  const clickWhileHeadHeld = async (click: () => Promise<{ status: number }>): Promise<string[]> => {
    const holder = new pg.Client({ connectionString: hub.databaseUrl });
    await holder.connect();
    const happened: string[] = [];
    try {
      await holder.query('begin');
      await holder.query('select seq from chain_head where id = 1 for update');
      const answered = click().then((answer) => {
        happened.push(`click answered ${answer.status}`);
      });
      await Promise.race([answered, new Promise((resolve) => setTimeout(resolve, HELD_AT_MOST_MS))]);
      happened.push('head let go');
      await holder.query('rollback');
      await answered;
    } finally {
      await holder.end();
    }
    return happened;
  };

  it('opens the deny form while another write holds the audit chain’s head', async () => {
    const created = await submit('deploy');
    const message = await posted(created.id);
    let triggerId = '';
    const happened = await clickWhileHeadHeld(async () => {
      const answer = await person('U0BOB').click(message, 'Deny');
      triggerId = answer.triggerId;
      return answer;
    });
    expect(happened).toEqual(['click answered 200', 'head let go']);
    // The form opens before Slack is answered.
    expect(slack.callsOf('views.open').filter((call) => call.args.trigger_id === triggerId)).toHaveLength(1);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.id}`, ADMIN_TOKEN)).body).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('tells an outsider clicking on a chatApprove: false rule’s request why not while another write holds the audit chain’s head', async () => {
    const created = await submit('db-open');
    const { channel } = await posted(created.id);
    // A chatApprove: false request's message has no buttons: the outsider sends them crafted.
    const crafted: PostedMessage = {
      channel,
      ts: '1700000000.000002',
      text: 'crafted',
      updates: 0,
      blocks: [{ type: 'actions', block_id: 'decide', elements: [{ type: 'button', action_id: 'greenlight_approve', value: created.id, text: { type: 'plain_text', text: 'Approve' } }] }],
    };
    const before = slack.ephemeralsTo('U0DAVE').length;
    const happened = await clickWhileHeadHeld(() => person('U0DAVE').click(crafted, 'Approve'));
    expect(happened).toEqual(['click answered 200', 'head let go']);
    expect(slack.ephemeralsTo('U0DAVE').slice(before).map((said) => said.text)).toEqual(['You are not an approver for this request; nothing was decided.']);
  });
});
