import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { breakGlassReviewStore } from './break-glass-reviews.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const at = '2026-12-01T00:00:00.000Z';
const use = (requestId: string, requesterId: string, dueAt: string) => ({ requestId, requesterId, ruleName: 'prod-db', incident: 'INC-1', reviewers: ['sre', 'security'], createdAt: at, dueAt });

/** Break-glass reviews go in as records and come back as records: reviewers a list, the outcome one of the two. */
describe.each(await storeKinds())('break-glass review records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
    await store.db.insertInto('users').values({ id: 'usr_r', name: 'rita', roles: '["requester"]', disabled: 0, created_at: at, email: null, service: 0 }).execute();
    for (const id of ['req_1', 'req_2']) {
      await store.db
        .insertInto('requests')
        .values({ id, requester_id: 'usr_r', requester_name: 'rita', action: 'deploy', resource: 'api', environment: 'prod', reason: 'r', risk: 'low', context: '{}', requested_ttl_seconds: null, idempotency_key: null, status: 'approved', version: 3, rule: '{}', eligible_groups: '[]', eligible_users: '[]', escalation_level: 0, escalation_round: 0, next_escalation_at: null, expires_at: null, claim_by: null, claim_until: null, created_at: at, updated_at: at, decided_at: at, decided_by: 'rita', not_before: null, extends_jti: null })
        .execute();
    }
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('an open use is owed once overdue, listed for others to review, and closed with its outcome', async () => {
    await breakGlassReviewStore.insert(store.db, use('req_1', 'usr_r', '2026-12-02T00:00:00.000Z'));
    const open = { ...use('req_1', 'usr_r', '2026-12-02T00:00:00.000Z'), outcome: null, reviewedBy: null, reviewedFor: null, comment: null, reviewedAt: null };
    expect(await breakGlassReviewStore.ofRequest(store.db, 'req_1')).toEqual(open);
    expect(await breakGlassReviewStore.owedBy(store.db, 'usr_r', '2026-12-01T12:00:00.000Z')).toBeUndefined();
    expect(await breakGlassReviewStore.owedBy(store.db, 'usr_r', '2026-12-02T00:00:00.000Z')).toEqual({ requestId: 'req_1', outcome: null, dueAt: '2026-12-02T00:00:00.000Z' });
    expect(await breakGlassReviewStore.lastUseSince(store.db, 'usr_r', 'prod-db', '2026-11-30T00:00:00.000Z')).toBe(at);
    expect(await breakGlassReviewStore.lastUseSince(store.db, 'usr_r', 'prod-db', at)).toBeUndefined();
    expect(await breakGlassReviewStore.openNotBy(store.db, 'usr_other')).toEqual([{ id: 'req_1', version: 3, reviewers: ['sre', 'security'] }]);
    expect(await breakGlassReviewStore.openNotBy(store.db, 'usr_r')).toEqual([]);
    // Closed by a delegate: the record keeps for whom as well as who.
    await breakGlassReviewStore.close(store.db, 'req_1', { outcome: 'unratified', reviewedBy: 'dana', reviewedFor: 'sam', comment: 'no incident', reviewedAt: '2026-12-01T01:00:00.000Z' });
    expect(await breakGlassReviewStore.ofRequest(store.db, 'req_1')).toEqual({ ...open, outcome: 'unratified', reviewedBy: 'dana', reviewedFor: 'sam', comment: 'no incident', reviewedAt: '2026-12-01T01:00:00.000Z' });
    expect(await breakGlassReviewStore.owedBy(store.db, 'usr_r', at)).toMatchObject({ requestId: 'req_1', outcome: 'unratified' });
    expect(await breakGlassReviewStore.openNotBy(store.db, 'usr_other')).toEqual([]);
  });

  it.skipIf(skip)('reviewers that are not a list of groups are refused, not passed on', async () => {
    await breakGlassReviewStore.insert(store.db, use('req_2', 'usr_r', at));
    await store.db.updateTable('break_glass_reviews').set({ reviewers: '"sre"' }).where('request_id', '=', 'req_2').execute();
    await expect(breakGlassReviewStore.ofRequest(store.db, 'req_2')).rejects.toThrow(/not a list/);
  });
});
