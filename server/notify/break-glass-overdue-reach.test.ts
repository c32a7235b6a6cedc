import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../test-support/hub-fixture.js';
import { OverdueReviewRig } from '../test-support/overdue-review-rig.js';
import { WebhookReceiver } from '../test-support/webhook-receiver.js';

// The leads an overdue review escalates to are reached where their escalation step says, as a request's escalation reaches them.
describe('a break-glass review gone overdue, on the channels of the escalation steps it reaches', () => {
  const rig = new OverdueReviewRig(
    `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:bot]
    escalation:
      - { after: 10m, notify: [security-leads], channels: [webhook:leads-pager, "teams:leads", email] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`,
    [{ name: 'bot' }, { name: 'leads-pager' }],
    ['leads'],
  );
  let dave: TestUser;

  beforeAll(async () => {
    await rig.start();
    dave = await rig.hub.createUser('dave', ['requester'], ['oncall'], { email: 'dave@example.com' });
    await rig.hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
    await rig.hub.createUser('lena', ['lead'], ['security-leads'], { email: 'lena@example.com' });
  });
  afterAll(() => rig.dispose());

  it('pages the leads on their step\'s webhook, Teams hook and email, and still tells the rule\'s webhook', async () => {
    const used = await rig.breakGlass(dave, 'INC-4431');
    // The use itself is announced on the rule's channels only: no lead is asked yet.
    expect(rig.webhooksAt('/bot', 'request.break_glass', used.id)).toHaveLength(1);
    expect(rig.webhooksAt('/leads-pager', 'request.break_glass', used.id)).toHaveLength(0);
    expect(rig.mailsTo('lena@example.com', used.id)).toHaveLength(0);

    await rig.letReviewGoOverdue();
    expect(rig.webhooksAt('/leads-pager', 'request.break_glass_overdue', used.id), 'the overdue alert on the leads\' pager').toHaveLength(1);
    const [paged] = rig.webhooksAt('/leads-pager', 'request.break_glass_overdue', used.id);
    expect(WebhookReceiver.verify(rig.secrets.get('leads-pager')!, paged!)).toMatchObject({ urgent: true, message: expect.stringMatching(/^Break-glass review overdue: dave on prod-db, INC-4431, .*security-leads asked to chase it$/) });
    expect(rig.webhooksAt('/bot', 'request.break_glass_overdue', used.id), 'the overdue alert on the rule\'s webhook').toHaveLength(1);
    expect(rig.cardsAt('leads', 'INC-4431').map((card) => card.raw)).toEqual([expect.stringContaining('URGENT: break-glass review overdue')]);
    expect(rig.mailsTo('lena@example.com', used.id).map((received) => received.mail.subject)).toEqual([expect.stringMatching(/^\[Greenlight\] URGENT: Break-glass review overdue: dave on prod-db, INC-4431/)]);
  });
});

const DAY = 24 * 3_600_000;

/** `from` hands their approvals (and what their app and email would tell them) to `to` for a week. */
async function delegate(rig: OverdueReviewRig, from: TestUser, to: string): Promise<void> {
  const { status } = await rig.hub.api('POST', '/api/v1/delegations', from.token, { to, endsAt: new Date(rig.clock.now().getTime() + 7 * DAY).toISOString(), reason: 'holiday' });
  expect(status).toBe(201);
}

const OVERDUE = /^\[Greenlight\] URGENT: Break-glass review overdue/;

// The rule's approvers approve requests; reviewing a break-glass is its reviewers' job, chased by its leads.
describe('the overdue review\'s email, where the rule names email', () => {
  const rig = new OverdueReviewRig(
    `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: [email]
    escalation:
      - { after: 10m, notify: [security-leads] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`,
    [],
  );
  let dave: TestUser;

  beforeAll(async () => {
    await rig.start();
    dave = await rig.hub.createUser('dave', ['requester'], ['oncall'], { email: 'dave@example.com' });
    const bob = await rig.hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    const sue = await rig.hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
    await rig.hub.createUser('lena', ['lead'], ['security-leads'], { email: 'lena@example.com' });
    // Approvers of nothing themselves, so each can stand in for someone.
    await rig.hub.createUser('carol', ['approver'], [], { email: 'carol@example.com' });
    await rig.hub.createUser('erin', ['approver'], [], { email: 'erin@example.com' });
    await delegate(rig, sue, 'carol');
    await delegate(rig, bob, 'erin');
  });
  afterAll(() => rig.dispose());

  it('goes to the reviewers who owe the review, the delegate standing in for one, and the lead asked to chase it, not to the approvers', async () => {
    const used = await rig.breakGlass(dave, 'INC-4440');
    // The use itself is news for the rule's approvers and reviewers alike.
    expect(rig.mailedAbout(used.id, /^\[Greenlight\] URGENT: Break-glass by dave/)).toEqual(['bob@example.com', 'carol@example.com', 'erin@example.com', 'sue@example.com']);

    await rig.letReviewGoOverdue();
    expect(rig.mailedAbout(used.id, OVERDUE)).toEqual(['carol@example.com', 'lena@example.com', 'sue@example.com']);
  });
});

describe('the overdue review\'s email, where only the escalation step names email', () => {
  const rig = new OverdueReviewRig(
    `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:bot]
    escalation:
      - { after: 10m, notify: [security-leads], channels: [email] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`,
    [{ name: 'bot' }],
  );
  let dave: TestUser;

  beforeAll(async () => {
    await rig.start();
    dave = await rig.hub.createUser('dave', ['requester'], ['oncall'], { email: 'dave@example.com' });
    await rig.hub.createUser('bob', ['approver'], ['sre'], { email: 'bob@example.com' });
    await rig.hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
    await rig.hub.createUser('lena', ['lead'], ['security-leads'], { email: 'lena@example.com' });
  });
  afterAll(() => rig.dispose());

  it('goes to that step\'s leads only, as the step\'s escalation email would', async () => {
    const used = await rig.breakGlass(dave, 'INC-4441');
    await rig.letReviewGoOverdue();
    expect(rig.mailedAbout(used.id, OVERDUE)).toEqual(['lena@example.com']);
  });
});

describe('the overdue review\'s email, under a rule that lets requesters approve their own requests', () => {
  const rig = new OverdueReviewRig(
    `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    allowSelfApproval: true
    notify: [email]
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`,
    [],
  );
  let dave: TestUser;

  beforeAll(async () => {
    await rig.start();
    dave = await rig.hub.createUser('dave', ['approver'], ['oncall', 'security'], { email: 'dave@example.com' });
    await rig.hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
  });
  afterAll(() => rig.dispose());

  it('never goes to whoever broke the glass, who may not review it', async () => {
    const used = await rig.breakGlass(dave, 'INC-4442');
    await rig.letReviewGoOverdue();
    expect(rig.mailedAbout(used.id, OVERDUE)).toEqual(['sue@example.com']);
  });
});
