import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { buildView, buildViews, buildViewsCached, viewReader } from './request-view.js';
import { audit, inTransaction } from './context.js';
import { ViewCache } from './view-cache.js';
import { toRequestRecord } from '../store/requests.js';

const POLICY = `
rules:
  - { name: two, match: { action: deploy }, approvers: [sre], minApprovals: 2, expireAfter: 1h }
  - { name: one, match: { action: restart }, approvers: [sre], expireAfter: 1h }
`;

describe('views built in bulk', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  it('equal the one-by-one views, decisions, grants and timelines included, for every viewer', async () => {
    const submit = async (action: string, resource: string) =>
      (await hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ action, resource }))).body.id;
    const decide = (user: TestUser, id: string, decision: 'approve' | 'deny', comment?: string) =>
      hub.api('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision, ...(comment ? { comment } : {}) });

    const untouched = await submit('deploy', 'untouched');
    const halfway = await submit('deploy', 'halfway');
    await decide(bob, halfway, 'approve', 'first of two');
    const approved = await submit('restart', 'approved');
    await decide(carol, approved, 'approve');
    const denied = await submit('restart', 'denied');
    await decide(bob, denied, 'deny', 'not today');

    const db = hub.hub.ctx.store.db;
    const rows = (await db.selectFrom('requests').selectAll().where('id', 'in', [untouched, halfway, approved, denied]).orderBy('id').execute()).map(toRequestRecord);
    const requesterId = rows[0]?.requester_id ?? '';
    for (const viewer of [{ id: requesterId }, { id: 'someone-else' }, null]) {
      const one = await Promise.all(rows.map((row) => buildView(viewReader(hub.hub.ctx), row, viewer)));
      const bulk = await buildViews(viewReader(hub.hub.ctx), rows, viewer);
      expect(bulk).toEqual(one);
    }
    const bulk = await buildViews(viewReader(hub.hub.ctx), rows, { id: requesterId });
    expect(bulk.map((view) => [view.resource, view.status, view.decisions.length, view.grant?.status ?? null])).toEqual([
      ['untouched', 'pending', 0, null],
      ['halfway', 'pending', 1, null],
      ['approved', 'approved', 1, 'active'],
      ['denied', 'denied', 1, null],
    ]);
    expect(bulk[2]?.grant?.token).toMatch(/^ey/);
  });

  it('reused from the cache equal freshly built ones, after a vote, a grant and an event that adds to the timeline alone', async () => {
    const submit = async (action: string, resource: string) =>
      (await hub.api<{ id: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ action, resource }))).body.id;
    const ids = [await submit('deploy', 'cached-quorum'), await submit('restart', 'cached-single')];
    const { ctx } = hub.hub;
    const db = ctx.store.db;
    const cache = new ViewCache();
    const refs = async () => db.selectFrom('requests').select(['id', 'version']).where('id', 'in', ids).orderBy('id').execute();
    const fresh = async (viewer: { id: string } | null) => buildViews(viewReader(hub.hub.ctx), (await db.selectFrom('requests').selectAll().where('id', 'in', ids).orderBy('id').execute()).map(toRequestRecord), viewer);
    const requesterId = (await db.selectFrom('requests').select('requester_id').where('id', '=', ids[0] ?? '').executeTakeFirstOrThrow()).requester_id;
    const agree = async () => {
      for (const viewer of [{ id: requesterId }, { id: 'someone-else' }, null]) {
        expect(await buildViewsCached(viewReader(hub.hub.ctx), cache, await refs(), viewer)).toEqual(await fresh(viewer));
        expect(await buildViewsCached(viewReader(hub.hub.ctx), cache, await refs(), viewer)).toEqual(await fresh(viewer));
      }
    };

    await agree();
    await hub.api('POST', `/api/v1/requests/${ids[0] ?? ''}/decisions`, bob.token, { decision: 'approve', comment: 'one of two' });
    await agree();
    await hub.api('POST', `/api/v1/requests/${ids[1] ?? ''}/decisions`, carol.token, { decision: 'approve' });
    await agree();
    // A notification's fate joins the request's timeline without changing the request itself.
    await inTransaction(ctx, (trx) => audit(ctx, trx, { actor: 'greenlight', type: 'notification.dead', requestId: ids[0] ?? '', outcome: 'dead', data: { notification: 'ntf_x' } }));
    await agree();
    const [quorum] = await buildViewsCached(viewReader(hub.hub.ctx), cache, await refs(), null);
    expect(quorum?.timeline.map((entry) => entry.type)).toEqual(['request.submitted', 'request.vote', 'notification.dead']);
  });
});
