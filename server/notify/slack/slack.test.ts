import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationPageSchema, type GreenlightRequest, type MyChannels, type NotificationPage } from '../../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../../test-support/hub-fixture.js';
import { SlackStandIn, type PostedMessage } from '../../test-support/slack-stand-in.js';
import { buttonsOf, sendToHub, slackForm, slackHeaders, SlackPerson } from '../../test-support/slack-person.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    notify: ["slack:#deploys", "slack:dm"]
  - name: pair
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    notify: ["slack:#deploys"]
  - name: unstaffed
    match: { action: restart }
    approvers: [nightshift]
    escalation:
      - { after: 30m, notify: [sre] }
    notify: ["slack:#deploys"]
  - name: console-only
    match: { action: db-open }
    approvers: [sre]
    chatApprove: false
    notify: ["slack:#deploys"]
`;

const SIGNING_SECRET = 'slack-signing-secret-for-tests';
type Audit = { events: { type: string; actor: string; outcome: string; requestId: string | null; data: Record<string, unknown> }[] };

describe('Slack, against a local Slack API stand-in', () => {
  const slack = new SlackStandIn();
  let hub: TestHub;
  let alice: TestUser, carol: TestUser;
  const person = (slackUserId: string) => new SlackPerson(slackUserId, () => hub.url, SIGNING_SECRET, slack);

  beforeAll(async () => {
    await slack.start();
    hub = new TestHub('sqlite', {
      policy: POLICY,
      notifiers: { allowPrivateNetworks: true, slack: { botToken: slack.botToken, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl } },
    });
    await hub.start();
    alice = await hub.createUser('alice', ['requester', 'approver'], ['sre']);
    await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
    await hub.createUser('dave', ['approver'], ['dba']);
    await hub.createUser('erin', ['approver'], ['sre']);
    for (const [name, id] of [['alice', 'U0ALICE'], ['bob', 'U0BOB'], ['carol', 'U0CAROL'], ['dave', 'U0DAVE'], ['erin', 'U0ERIN']]) {
      expect((await hub.api('PATCH', `/api/v1/users/${name}`, ADMIN_TOKEN, { slackUserId: id })).status).toBe(200);
    }
    expect((await hub.api('POST', '/api/v1/users/erin/disable', ADMIN_TOKEN)).status).toBe(200);
  });
  afterAll(async () => {
    await hub.dispose();
    await slack.close();
  });

  const submit = async (overrides: Parameters<typeof deployRequest>[0] = {}) => {
    const { status, body } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest(overrides));
    expect(status).toBe(201);
    return body;
  };
  const request = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body;
  const auditOf = async (type: string) => (await hub.api<Audit>('GET', `/api/v1/audit?type=${type}&limit=1000`, ADMIN_TOKEN)).body.events;
  /** The message in #deploys (or a DM channel) once it has been posted. */
  const posted = (requestId: string, channel = 'C'): Promise<PostedMessage> =>
    slack.until(() => slack.messagesFor(requestId).find((message) => message.channel.startsWith(channel)), `a message for ${requestId} in ${channel}…`);
  /** The message once chat.update has rewritten it so that `check` holds. */
  const updatedUntil = async (message: PostedMessage, check: (text: string) => boolean): Promise<PostedMessage> => {
    const current = () => slack.messages.get(`${message.channel}/${message.ts}`) as PostedMessage;
    return slack.until(() => check(JSON.stringify(current().blocks)) && current(), `an update of ${message.channel}/${message.ts}`);
  };
  const labels = (message: PostedMessage) => buttonsOf(message).map((button) => button.text.text);

  it('posts in the channel and messages each eligible approver directly, with the whole context, within Block Kit limits', async () => {
    const diff = Array.from({ length: 45 }, (_, i) => `+line ${i + 1}`).join('\n');
    const created = await submit({ risk: 'medium', reason: 'hotfix <!channel> & <@U0BOSS> <https://evil.example|click>', context: { diff, links: [{ title: 'INC-4412', url: 'https://tickets.example.com/INC-4412' }] } });
    const channelMessage = await posted(created.id, 'C');
    const text = JSON.stringify(channelMessage.blocks);
    expect(text).toContain('deploy payments-api → production');
    expect(text).toContain('alice');
    expect(text).toContain('medium');
    expect(text).toContain('hotfix &lt;!channel&gt; &amp; &lt;@U0BOSS&gt; &lt;https://evil.example|click&gt;');
    expect(text).not.toContain('<!channel>');
    expect(text).toContain('+line 30');
    expect(text).not.toContain('+line 31');
    expect(text).toContain('…15 more lines');
    expect(text).toContain('<https://tickets.example.com/INC-4412|INC-4412>');
    expect(labels(channelMessage)).toEqual(['Approve', 'Deny', 'Open in Greenlight']);
    expect(buttonsOf(channelMessage).find((button) => button.text.text === 'Open in Greenlight')?.url).toBe(`${hub.url}/?request=${created.id}`);

    // Direct messages: bob and carol (eligible, linked); not alice (the requester), dave (another group) or erin (disabled).
    await posted(created.id, 'DU0BOB');
    await posted(created.id, 'DU0CAROL');
    await hub.hub.dispatcher.idle();
    const dmChannels = slack.messagesFor(created.id).map((message) => message.channel).filter((channel) => channel.startsWith('D')).sort();
    expect(dmChannels).toEqual(['DU0BOB', 'DU0CAROL']);
    expect(slack.violations).toEqual([]);
  });

  it('approves with one click on a medium-risk request, audited via slack, and rewrites every message with the outcome', async () => {
    const created = await submit({ risk: 'medium' });
    const message = await posted(created.id);
    const bob = person('U0BOB');
    expect((await bob.click(message, 'Approve')).status).toBe(200);
    expect(bob.clicks).toBe(1);
    expect((await request(created.id)).status).toBe('approved');
    const approved = (await auditOf('request.approved')).find((event) => event.requestId === created.id);
    expect(approved).toMatchObject({ actor: 'bob', data: { via: 'slack' } });
    for (const each of slack.messagesFor(created.id)) {
      const after = await updatedUntil(each, (text) => text.includes('Approved'));
      expect(JSON.stringify(after.blocks)).toMatch(/Approved\*? by bob <!date\^\d+\^\{time\}\|\d\d:\d\d UTC> · grant until/);
      expect(labels(after)).toEqual(['Open in Greenlight']);
    }
    expect(slack.violations).toEqual([]);
  });

  it('asks to confirm a high-risk approval in a dialog that names the risk: two clicks', async () => {
    const created = await submit({ risk: 'high' });
    const message = await posted(created.id);
    const approve = buttonsOf(message).find((button) => button.text.text === 'Approve');
    expect(approve?.confirm?.title.text).toBe('Approve a high-risk request?');
    expect(approve?.confirm?.text.text).toContain('HIGH risk');
    const carolInSlack = person('U0CAROL');
    await carolInSlack.click(message, 'Approve');
    expect(carolInSlack.clicks).toBe(2);
    expect((await request(created.id)).status).toBe('approved');
  });

  it('counts the clicks from the message to the recorded decision: one for low and medium, two for high and critical', async () => {
    const counted: Record<string, number> = {};
    for (const risk of ['low', 'medium', 'high', 'critical'] as const) {
      const created = await submit({ risk });
      const message = await posted(created.id);
      const bob = person('U0BOB');
      await bob.click(message, 'Approve');
      expect((await request(created.id)).status).toBe('approved');
      counted[risk] = bob.clicks;
    }
    expect(counted).toEqual({ low: 1, medium: 1, high: 2, critical: 2 });
  });

  it('opens the deny form for a delegate deciding for an approver who is away, and refuses someone with no part', async () => {
    await hub.createUser('fay', ['approver'], ['qa']);
    expect((await hub.api('PATCH', '/api/v1/users/fay', ADMIN_TOKEN, { slackUserId: 'U0FAY' })).status).toBe(200);
    const away = await hub.api<{ id: string }>('POST', '/api/v1/delegations', carol.token, { to: 'fay', endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
    expect(away.status).toBe(201);
    const created = await submit({ risk: 'medium' });
    const message = await posted(created.id);

    const fay = person('U0FAY');
    const { triggerId } = await fay.click(message, 'Deny');
    expect(slack.callsOf('views.open').find((call) => call.args.trigger_id === triggerId)?.answer.ok).toBe(true);
    expect((await hub.api('DELETE', `/api/v1/delegations/${away.body.id}`, carol.token)).status).toBe(200);
    const { triggerId: refused } = await fay.click(message, 'Deny');
    expect(slack.callsOf('views.open').some((call) => call.args.trigger_id === refused)).toBe(false);
    expect(slack.callsOf('chat.postEphemeral').at(-1)?.args.text).toBe('You are not an approver for this request; nothing was decided.');
  });

  it('denies through a modal that asks for the reason, and records the reason', async () => {
    const created = await submit({ risk: 'medium' });
    const message = await posted(created.id);
    const carolInSlack = person('U0CAROL');
    const { triggerId } = await carolInSlack.click(message, 'Deny');
    const opened = slack.callsOf('views.open').find((call) => call.args.trigger_id === triggerId);
    expect(opened?.answer.ok).toBe(true);
    expect((await request(created.id)).status).toBe('pending');

    for (const blank of ['   ', '\u200B\u2800\u3164']) {
      const empty = await carolInSlack.submitModal(triggerId, blank);
      expect(JSON.parse(empty.text)).toMatchObject({ response_action: 'errors', errors: { reason: 'Say why you deny it.' } });
    }
    expect((await request(created.id)).status).toBe('pending');

    expect((await carolInSlack.submitModal(triggerId, 'not during the <!here> freeze')).status).toBe(200);
    const denied = await request(created.id);
    expect(denied).toMatchObject({ status: 'denied', decidedBy: 'carol' });
    expect(denied.decisions[0]?.comment).toBe('not during the <!here> freeze');
    expect((await auditOf('request.denied')).find((event) => event.requestId === created.id)).toMatchObject({ actor: 'carol', data: { via: 'slack', comment: 'not during the <!here> freeze' } });
    const after = await updatedUntil(message, (text) => text.includes('Denied'));
    expect(JSON.stringify(after.blocks)).toContain('not during the &lt;!here&gt; freeze');
  });

  it('needs two approvals across Slack and the app, and the message shows the first before the second', async () => {
    const created = await submit({ action: 'migrate', risk: 'medium' });
    const message = await posted(created.id);
    await person('U0BOB').click(message, 'Approve');
    expect(await request(created.id)).toMatchObject({ status: 'pending', approvals: 1 });
    const voted = await updatedUntil(message, (text) => text.includes('Approved so far by bob'));
    expect(JSON.stringify(voted.blocks)).toContain('1 of 2');
    expect(labels(voted)).toContain('Approve');
    expect((await auditOf('request.vote')).find((event) => event.requestId === created.id)).toMatchObject({ actor: 'bob', data: { via: 'slack' } });

    expect((await hub.api('POST', `/api/v1/requests/${created.id}/decisions`, carol.token, { decision: 'approve' })).status).toBe(200);
    expect((await request(created.id)).status).toBe('approved');
    const decided = await updatedUntil(message, (text) => text.includes('Approved*') && text.includes('by carol'));
    expect(labels(decided)).toEqual(['Open in Greenlight']);
  });

  it('lists a delegate\'s vote as the delegate for the approver in "Approved so far"', async () => {
    await hub.createUser('hal', ['approver'], ['qa']);
    expect((await hub.api('PATCH', '/api/v1/users/hal', ADMIN_TOKEN, { slackUserId: 'U0HAL' })).status).toBe(200);
    const away = await hub.api<{ id: string }>('POST', '/api/v1/delegations', carol.token, { to: 'hal', endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
    expect(away.status).toBe(201);
    try {
      const created = await submit({ action: 'migrate', risk: 'medium' });
      const message = await posted(created.id);
      expect((await person('U0HAL').click(message, 'Approve')).status).toBe(200);
      expect((await request(created.id)).decisions).toEqual([expect.objectContaining({ approver: 'carol', by: 'hal' })]);
      const voted = await updatedUntil(message, (text) => text.includes('Approved so far'));
      expect(JSON.stringify(voted.blocks)).toMatch(/Approved so far by hal for carol <!date\^/);
    } finally {
      expect((await hub.api('DELETE', `/api/v1/delegations/${away.body.id}`, carol.token)).status).toBe(200);
    }
  });

  it('updates the Slack message when the request is decided in the app', async () => {
    const created = await submit({ risk: 'medium' });
    const message = await posted(created.id);
    expect((await hub.api('POST', `/api/v1/requests/${created.id}/decisions`, carol.token, { decision: 'deny', comment: 'use the canary' })).status).toBe(200);
    const after = await updatedUntil(message, (text) => text.includes('Denied'));
    expect(JSON.stringify(after.blocks)).toContain('by carol');
    expect(JSON.stringify(after.blocks)).toContain('use the canary');
  });

  it('names the delegate and the approver they approved for in the rewritten message, and in what a later click is told', async () => {
    await hub.createUser('gus', ['approver'], ['qa']);
    expect((await hub.api('PATCH', '/api/v1/users/gus', ADMIN_TOKEN, { slackUserId: 'U0GUS' })).status).toBe(200);
    const away = await hub.api<{ id: string }>('POST', '/api/v1/delegations', carol.token, { to: 'gus', endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
    expect(away.status).toBe(201);
    try {
      const created = await submit({ risk: 'medium' });
      const message = await posted(created.id);
      expect((await person('U0GUS').click(message, 'Approve')).status).toBe(200);
      expect(await request(created.id)).toMatchObject({ status: 'approved', decidedBy: 'gus', decidedFor: 'carol' });
      for (const each of slack.messagesFor(created.id)) {
        const after = await updatedUntil(each, (text) => text.includes('Approved*'));
        expect(JSON.stringify(after.blocks)).toMatch(/Approved\*? by gus for carol <!date\^/);
      }
      // Bob, clicking the buttons the message had before it was rewritten, is told who decided it and for whom.
      for (const label of ['Approve', 'Deny']) {
        const before = slack.callsOf('chat.postEphemeral').length;
        expect((await person('U0BOB').click(message, label)).status).toBe(200);
        const told = await slack.until(() => slack.callsOf('chat.postEphemeral').slice(before)[0], `bob told why his ${label} did nothing`);
        expect(told.args.text).toBe('This request is already approved by gus for carol; nothing to decide.');
      }
    } finally {
      expect((await hub.api('DELETE', `/api/v1/delegations/${away.body.id}`, carol.token)).status).toBe(200);
    }
  });

  /** What `slackUserId` is told, privately, on clicking `label` on `message`. */
  const toldOn = async (slackUserId: string, message: PostedMessage, label: string): Promise<string> => {
    const before = slack.callsOf('chat.postEphemeral').length;
    expect((await person(slackUserId).click(message, label)).status).toBe(200);
    const told = slack.callsOf('chat.postEphemeral').slice(before);
    expect(told.map((call) => call.args.user)).toEqual([slackUserId]);
    return String(told[0]?.args.text);
  };

  it('explains to the requester, an outsider, an unknown and a disabled Slack user, privately, in the same words on Approve and Deny, and decides nothing', async () => {
    const created = await submit({ risk: 'medium' });
    const message = await posted(created.id);
    const cases: [string, RegExp][] = [
      ['U0ALICE', /^You cannot decide your own request; another approver has to\.$/],
      ['U0DAVE', /^You are not an approver for this request; nothing was decided\.$/],
      ['U0NOBODY', /not linked to a Greenlight user.*--slack-user U0NOBODY/],
      ['U0ERIN', /erin is disabled/],
    ];
    for (const [slackUserId, explanation] of cases) {
      const onApprove = await toldOn(slackUserId, message, 'Approve');
      expect(onApprove).toMatch(explanation);
      expect(await toldOn(slackUserId, message, 'Deny'), `${slackUserId} on Deny`).toBe(onApprove);
    }
    expect(await request(created.id)).toMatchObject({ status: 'pending', decisions: [] });
    expect(slack.callsOf('views.open').filter((call) => String(call.args.trigger_id).includes('U0ALICE') || String(call.args.trigger_id).includes('U0DAVE'))).toEqual([]);
  });

  it('tells someone with no part in a decided request only that, on Approve and Deny alike, not who decided it', async () => {
    const created = await submit({ risk: 'medium' });
    const message = await posted(created.id);
    await person('U0BOB').click(message, 'Approve');
    expect((await request(created.id)).status).toBe('approved');
    for (const label of ['Approve', 'Deny']) {
      expect(await toldOn('U0DAVE', message, label), `dave on ${label}`).toBe('You are not an approver for this request; nothing was decided.');
    }
  });

  it('offers only "Open in Greenlight" where the rule says chatApprove: false, and refuses a crafted approve click', async () => {
    const created = await submit({ action: 'db-open', risk: 'critical' });
    const message = await posted(created.id);
    expect(labels(message)).toEqual(['Open in Greenlight']);
    const body = slackForm({ type: 'block_actions', user: { id: 'U0BOB' }, trigger_id: 't', channel: { id: message.channel }, actions: [{ action_id: 'greenlight_approve', value: created.id }] });
    expect((await sendToHub(hub.url, body, slackHeaders(SIGNING_SECRET, body, Math.floor(Date.now() / 1000)))).status).toBe(200);
    expect((await request(created.id)).status).toBe('pending');
    expect(String(slack.callsOf('chat.postEphemeral').at(-1)?.args.text)).toContain('Open in Greenlight');
  });

  it('refuses a bad signature, a timestamp 6 minutes old and the same signed body twice: 401, nothing changes, audited', async () => {
    const created = await submit({ risk: 'medium' });
    await posted(created.id);
    const body = slackForm({ type: 'block_actions', user: { id: 'U0BOB' }, trigger_id: 't', channel: { id: 'C1' }, actions: [{ action_id: 'greenlight_approve', value: created.id }] });
    const now = Math.floor(Date.now() / 1000);

    const forged = slackHeaders('not-the-signing-secret', body, now);
    expect((await sendToHub(hub.url, body, forged)).status).toBe(401);
    const stale = slackHeaders(SIGNING_SECRET, body, now - 6 * 60);
    expect((await sendToHub(hub.url, body, stale)).status).toBe(401);
    expect((await request(created.id)).status).toBe('pending');

    const signed = slackHeaders(SIGNING_SECRET, body, now);
    expect((await sendToHub(hub.url, body, signed)).status).toBe(200);
    expect((await request(created.id)).status).toBe('approved');
    const decisions = (await request(created.id)).decisions.length;
    expect((await sendToHub(hub.url, body, signed)).status).toBe(401);
    expect((await request(created.id)).decisions.length).toBe(decisions);

    const reasons = (await auditOf('auth.failed')).filter((event) => event.data.where === 'POST /integrations/slack/actions').map((event) => event.data.reason);
    expect(reasons).toEqual(
      expect.arrayContaining(['Slack request refused: signature does not match', 'Slack request refused: timestamp more than 5 minutes off', 'Slack request refused: replayed signature']),
    );
  });

  it("waits as long as Slack's 429 Retry-After says, through the outbox, then posts", async () => {
    // Longer than the outbox's own first wait (5 s + 10 % jitter), so only Retry-After explains it.
    slack.rateLimit('chat.postMessage', 8);
    const created = await submit({ risk: 'low', action: 'migrate' });
    const limited = await slack.arrivals.next((call) => call.method === 'chat.postMessage' && call.status === 429 && JSON.stringify(call.args).includes(created.id));
    expect(limited.answer).toEqual({ ok: false, error: 'ratelimited' });
    await hub.hub.dispatcher.idle();
    const page = (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body;
    // What `greenlight notify list` reads: Slack's rows (posts and message refreshes) included.
    expect(() => notificationPageSchema.parse(page)).not.toThrow();
    expect(page.notifications.some((notification) => notification.destination === 'slack:refresh' && notification.type === 'request.updated')).toBe(true);
    const row = page.notifications.find((notification) => notification.requestId === created.id && notification.destination === 'slack:#deploys');
    expect(row).toMatchObject({ channel: 'slack', status: 'pending', attempts: 1, lastStatus: 429 });
    expect(Date.parse(row?.nextAttemptAt ?? '') - Date.parse(row?.createdAt ?? '')).toBeGreaterThanOrEqual(8000);
    await slack.until(() => slack.messagesFor(created.id)[0], 'the post after Retry-After', 30_000);
    const metrics = (await hub.api<string>('GET', '/metrics', null)).body;
    expect(metrics).toMatch(/greenlight_notifications_total\{channel="slack",outcome="retry"\} [1-9]/);
  });

  it('a request created and escalated at once is posted once in the channel, and that message is the one kept up to date', async () => {
    const created = await submit({ action: 'restart', risk: 'low', reason: 'nobody on the night shift' });
    expect(created.escalationLevel).toBe(1);
    await posted(created.id);
    await hub.hub.dispatcher.idle();
    const inChannel = slack.messagesFor(created.id).filter((message) => message.channel.startsWith('C'));
    expect(inChannel).toHaveLength(1);
    expect((await hub.api('POST', `/api/v1/requests/${created.id}/cancel`, alice.token, { reason: 'fixed itself' })).status).toBe(200);
    await updatedUntil(inChannel[0]!, (text) => text.includes('Cancelled'));
  });

  it('one message Slack will not update does not keep the approvers\' DMs live: archived is forgotten, a refusal retried', async () => {
    for (const error of ['is_archived', 'internal_error']) {
      const created = await submit({ risk: 'medium', reason: `the channel answers ${error}` });
      const inChannel = await posted(created.id);
      const dms = await Promise.all(['DU0BOB', 'DU0CAROL'].map((dm) => posted(created.id, dm)));
      await hub.hub.dispatcher.idle();
      slack.refuseUpdates(inChannel.channel, error);
      try {
        expect((await hub.api('POST', `/api/v1/requests/${created.id}/decisions`, carol.token, { decision: 'deny', comment: 'not tonight' })).status).toBe(200);
        for (const dm of dms) await updatedUntil(dm, (text) => text.includes('Denied'));
        await hub.hub.dispatcher.idle();
        const page = (await hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=1000', ADMIN_TOKEN)).body;
        const refresh = page.notifications.filter((n) => n.requestId === created.id && n.destination === 'slack:refresh');
        // Archived: nothing left to update there, so the refresh is done. Refused: tried again later.
        expect(refresh.map((n) => n.status)).toEqual([error === 'is_archived' ? 'delivered' : 'pending']);
      } finally {
        slack.refuseUpdates(inChannel.channel, null);
      }
      // Its retry (5 s later) updates the channel's message too.
      if (error === 'internal_error') await updatedUntil(inChannel, (text) => text.includes('Denied'));
    }
  });

  it('still updates every message after the hub restarts, from the references in the database', async () => {
    const created = await submit({ risk: 'medium' });
    const message = await posted(created.id);
    await hub.hub.dispatcher.idle();
    await hub.stop();
    await hub.start();
    expect((await hub.api('POST', `/api/v1/requests/${created.id}/decisions`, carol.token, { decision: 'approve' })).status).toBe(200);
    await updatedUntil(message, (text) => text.includes('by carol'));
    for (const each of slack.messagesFor(created.id)) await updatedUntil(each, (text) => text.includes('by carol'));
  });
  it('tells each person in Settings whether Slack messages reach them', async () => {
    const slackReach = async (token: string) => (await hub.api<MyChannels>('GET', '/api/v1/me/channels', token)).body.channels.find((channel) => channel.channel === 'slack');
    expect(await slackReach(carol.token)).toMatchObject({ reaches: true, address: 'U0CAROL', rules: ['prod'] });
    const dave = await hub.createUser('dave2', ['approver'], ['dba']);
    expect(await slackReach(dave.token)).toMatchObject({ reaches: false, address: null, rules: [] });
  });
});
