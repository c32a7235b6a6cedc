import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, NotificationPage } from '../../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, type TestUser } from '../../test-support/hub-fixture.js';
import { OverdueReviewRig } from '../../test-support/overdue-review-rig.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    notify: ["teams:oncall"]
    escalation:
      - { after: 10m, notify: [security-leads] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
`;

const OVERDUE_HEADLINE = 'URGENT: break-glass review overdue';

// A card waiting for Teams may go out hours later: by then what it asks of people may be done.
describe('Teams cards no longer due when Teams is back, posted to a local receiver standing in for Teams', () => {
  const rig = new OverdueReviewRig(POLICY, [], ['oncall']);
  let teamsDown = false;
  let dave: TestUser, sue: TestUser, bob: TestUser;

  beforeAll(async () => {
    await rig.start();
    rig.receiver.reply = () => (teamsDown ? { status: 503 } : { status: 200 });
    dave = await rig.hub.createUser('dave', ['requester'], ['oncall']);
    sue = await rig.hub.createUser('sue', ['approver'], ['security']);
    bob = await rig.hub.createUser('bob', ['approver'], ['sre']);
    await rig.hub.createUser('lena', ['lead'], ['security-leads']);
  });
  afterAll(() => rig.dispose());

  /** The outbox rows of one event about one request, as the admin's delivery view lists them. */
  const rowsOf = async (requestId: string, type: string) =>
    (await rig.hub.api<NotificationPage>('GET', '/api/v1/notifications?limit=200', ADMIN_TOKEN)).body.notifications.filter((row) => row.requestId === requestId && row.type === type);
  const cardsAbout = (requestId: string) => rig.receiver.received.filter((arrival) => arrival.path.startsWith('/teams/oncall') && arrival.raw.includes(requestId)).map((arrival) => arrival.raw);
  /** Teams answers again, and an hour on the rows waiting for it are retried. */
  const teamsIsBack = async () => {
    teamsDown = false;
    rig.clock.advance(3_600_000);
    await rig.hub.hub.dispatcher.runNow();
    await rig.hub.hub.dispatcher.idle();
  };

  it('does not post the overdue-review alert once the review is in, and says who reviewed it in the delivery view', async () => {
    const used = await rig.breakGlass(dave, 'INC-7001');
    teamsDown = true;
    await rig.letReviewGoOverdue();
    expect((await rowsOf(used.id, 'request.break_glass_overdue')).map((row) => [row.status, row.lastStatus])).toEqual([['pending', 503]]);
    const reviewed = await rig.hub.api('POST', `/api/v1/requests/${used.id}/review`, sue.token, { outcome: 'ratified', comment: 'checked with the incident lead' });
    expect(reviewed.status).toBe(200);

    await teamsIsBack();
    expect(cardsAbout(used.id).filter((card) => card.includes(OVERDUE_HEADLINE)), 'only the attempt Teams refused').toHaveLength(1);
    expect(await rowsOf(used.id, 'request.break_glass_overdue')).toMatchObject([{ status: 'failed', nextAttemptAt: null, lastError: 'not posted: the break-glass was ratified by sue before this card could go out' }]);
  });

  it('posts the overdue-review alert that waited for Teams while the review is still open', async () => {
    const used = await rig.breakGlass(dave, 'INC-7002');
    teamsDown = true;
    await rig.letReviewGoOverdue();
    await teamsIsBack();
    expect(cardsAbout(used.id).filter((card) => card.includes(OVERDUE_HEADLINE) && card.includes('Break-glass review overdue: dave on prod-db, INC-7002')), 'refused once, then posted').toHaveLength(2);
    expect(await rowsOf(used.id, 'request.break_glass_overdue')).toMatchObject([{ status: 'delivered', lastError: null }]);
  });

  it('does not ask for a decision on a request decided while Teams was down, and posts the decision', async () => {
    teamsDown = true;
    const { status, body: request } = await rig.hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ reason: 'ship the checkout fix' }));
    expect(status).toBe(201);
    await rig.hub.hub.dispatcher.idle();
    expect((await rowsOf(request.id, 'request.created')).map((row) => [row.status, row.lastStatus])).toEqual([['pending', 503]]);
    expect((await rig.hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' })).body.status).toBe('approved');
    await rig.hub.hub.dispatcher.idle();

    const refused = cardsAbout(request.id).length;
    await teamsIsBack();
    const posted = cardsAbout(request.id).slice(refused);
    expect(posted.filter((card) => card.includes('Approval requested')), 'no card asking for a decision already made').toEqual([]);
    expect(posted.filter((card) => card.includes('Approved by bob')), 'the decision').toHaveLength(1);
    expect(await rowsOf(request.id, 'request.created')).toMatchObject([{ status: 'failed', lastError: 'not posted: the request was approved before this card could go out' }]);
  });
});
