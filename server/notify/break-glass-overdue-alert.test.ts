import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestUser } from '../test-support/hub-fixture.js';
import { OverdueReviewRig } from '../test-support/overdue-review-rig.js';
import { WebhookReceiver } from '../test-support/webhook-receiver.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: [webhook:bot, webhook:pager, "teams:oncall", email]
    escalation:
      - { after: 10m, notify: [security-leads] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`;

// The security lead asked to chase an unreviewed break-glass may have no Greenlight window open at night.
describe('a break-glass review gone overdue, on the rule\'s channels', () => {
  // `pager` was configured when the overdue alert still came as a second `request.break_glass`.
  const rig = new OverdueReviewRig(POLICY, [{ name: 'bot' }, { name: 'pager', events: ['request.break_glass'] }], ['oncall']);
  let dave: TestUser;

  beforeAll(async () => {
    await rig.start();
    dave = await rig.hub.createUser('dave', ['requester'], ['oncall'], { email: 'dave@example.com' });
    await rig.hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
    await rig.hub.createUser('lena', ['lead'], ['security-leads'], { email: 'lena@example.com' });
  });
  afterAll(() => rig.dispose());

  it('sends an urgent, signed webhook and an email to the lead it escalates to', async () => {
    const used = await rig.breakGlass(dave, 'INC-4412');
    expect(rig.mailsTo('lena@example.com', used.id)).toHaveLength(0);

    await rig.letReviewGoOverdue();
    expect(rig.webhooksAt('/bot', 'request.break_glass_overdue', used.id)).toHaveLength(1);
    const [webhook] = rig.webhooksAt('/bot', 'request.break_glass_overdue', used.id);
    expect(WebhookReceiver.verify(rig.secrets.get('bot')!, webhook!)).toMatchObject({ urgent: true, message: expect.stringMatching(/^Break-glass review overdue: dave on prod-db, INC-4412, was due for review by \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC; .*security-leads asked to chase it$/), data: { id: used.id } });

    const [mail] = rig.mailsTo('lena@example.com', used.id);
    expect(mail?.mail.subject).toMatch(/^\[Greenlight\] URGENT: Break-glass review overdue: dave on prod-db, INC-4412/);
  });
});

// A receiver that opens an incident per break-glass use must not see a second use that never happened.
describe('a break-glass review gone overdue is its own event', () => {
  // `pager` was configured when the overdue alert still came as a second `request.break_glass`.
  const rig = new OverdueReviewRig(POLICY, [{ name: 'bot' }, { name: 'pager', events: ['request.break_glass'] }], ['oncall']);
  let olga: TestUser;

  beforeAll(async () => {
    await rig.start();
    olga = await rig.hub.createUser('olga', ['requester'], ['oncall']);
    await rig.hub.createUser('sue', ['approver'], ['security'], { email: 'sue@example.com' });
    await rig.hub.createUser('lena', ['lead'], ['security-leads'], { email: 'lena@example.com' });
  });
  afterAll(() => rig.dispose());

  it('request.break_glass_overdue, never another break-glass use, on the webhook, in Teams and by email', async () => {
    const used = await rig.breakGlass(olga, 'INC-4420');
    expect(rig.webhooksAt('/bot', 'request.break_glass', used.id)).toHaveLength(1);
    expect(rig.cardsAt('oncall', 'INC-4420').map((card) => card.raw)).toEqual([expect.stringContaining('access taken without approval')]);

    await rig.letReviewGoOverdue();
    expect(rig.webhooksAt('/bot', 'request.break_glass', used.id), 'still the one break-glass use').toHaveLength(1);
    expect(rig.webhooksAt('/bot', 'request.break_glass_overdue', used.id)).toHaveLength(1);
    const [overdue] = rig.webhooksAt('/bot', 'request.break_glass_overdue', used.id);
    expect(WebhookReceiver.verify(rig.secrets.get('bot')!, overdue!)).toMatchObject({ type: 'request.break_glass_overdue', urgent: true, message: expect.stringMatching(/^Break-glass review overdue: olga on prod-db, INC-4420, /) });

    // An endpoint listing only request.break_glass got the overdue alert before it had a type of its own: it still does.
    expect(rig.webhooksAt('/pager', 'request.break_glass', used.id)).toHaveLength(1);
    expect(rig.webhooksAt('/pager', 'request.break_glass_overdue', used.id), 'the overdue alert at the endpoint listing request.break_glass').toHaveLength(1);
    const [paged] = rig.webhooksAt('/pager', 'request.break_glass_overdue', used.id);
    expect(WebhookReceiver.verify(rig.secrets.get('pager')!, paged!)).toMatchObject({ type: 'request.break_glass_overdue', data: { id: used.id } });

    const cards = rig.cardsAt('oncall', 'INC-4420').map((card) => card.raw);
    expect(cards.filter((card) => card.includes('access taken without approval')), 'one card for the use').toHaveLength(1);
    expect(cards.filter((card) => card.includes('URGENT: break-glass review overdue') && card.includes('Break-glass review overdue: olga on prod-db')), 'one card for the overdue review').toHaveLength(1);

    expect(rig.mailsTo('lena@example.com', used.id).map((received) => received.mail.subject)).toEqual([expect.stringMatching(/^\[Greenlight\] URGENT: Break-glass review overdue: olga on prod-db, INC-4420/)]);
  });
});
