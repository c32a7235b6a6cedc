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
