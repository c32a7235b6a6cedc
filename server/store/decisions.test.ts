import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { decisionStore, type DecisionRecord } from './decisions.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const at = '2026-12-01T00:00:00.000Z';
const vote = (changes: Partial<DecisionRecord>): DecisionRecord => ({
  requestId: 'req_1',
  approverId: 'usr_a',
  approverName: 'alice',
  decision: 'approve',
  comment: null,
  createdAt: at,
  lines: null,
  delegateId: null,
  delegateName: null,
  ...changes,
});

/** Votes go in as records and come back as records: quorum lines as a list, the verdict one of the two. */
describe.each(await storeKinds())('decision records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
    // Votes belong to a request (a foreign key): one row of each.
    await store.db.insertInto('users').values({ id: 'usr_r', name: 'rita', roles: '["requester"]', disabled: 0, created_at: at, email: null, service: 0 }).execute();
    for (const id of ['req_1', 'req_2']) {
      await store.db
        .insertInto('requests')
        .values({ id, requester_id: 'usr_r', requester_name: 'rita', action: 'deploy', resource: 'api', environment: 'prod', reason: 'r', risk: 'low', context: '{}', requested_ttl_seconds: null, idempotency_key: null, status: 'pending', version: 1, rule: '{}', eligible_groups: '[]', eligible_users: '[]', escalation_level: 0, escalation_round: 0, next_escalation_at: null, expires_at: null, claim_by: null, claim_until: null, created_at: at, updated_at: at, decided_at: null, decided_by: null, not_before: null, extends_jti: null })
        .execute();
    }
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('votes come back oldest first with their lines and delegates; the narrow reads say the same', async () => {
    const first = vote({ lines: ['sre', 'security'], comment: 'ok' });
    const second = vote({ approverId: 'usr_b', approverName: 'bob', createdAt: '2026-12-01T00:01:00.000Z', delegateId: 'usr_d', delegateName: 'dora' });
    const denial = vote({ requestId: 'req_2', decision: 'deny', lines: [] });
    await decisionStore.insert(store.db, second);
    await decisionStore.insert(store.db, first);
    await decisionStore.insert(store.db, denial);
    expect(await decisionStore.ofRequest(store.db, 'req_1')).toEqual([first, second]);
    expect(await decisionStore.ofRequests(store.db, ['req_1', 'req_2'])).toEqual([first, denial, second]);
    expect(await decisionStore.tallyOf(store.db, 'req_2')).toEqual([{ approverName: 'alice', decision: 'deny', lines: [] }]);
    expect(await decisionStore.castBy(store.db, 'req_1', 'usr_d')).toEqual({ approverName: 'bob', decision: 'approve' });
    expect(await decisionStore.ofApprover(store.db, 'req_1', 'usr_b')).toEqual({ decision: 'approve', delegateName: 'dora' });
    expect(await decisionStore.approvalsOnBehalf(store.db, 'req_1')).toEqual([{ approverName: 'bob', delegateName: 'dora' }]);
    expect((await decisionStore.votersOf(store.db, 'req_1')).length).toBe(2);
    expect((await decisionStore.approverNamesOf(store.db, 'req_1')).sort()).toEqual(['alice', 'bob']);
    // The delegate who cast bob's vote has voted too.
    expect((await decisionStore.voterIdsOf(store.db, 'req_1')).sort()).toEqual(['usr_a', 'usr_b', 'usr_d']);
  });

  it.skipIf(skip)('a verdict or lines the hub never writes are refused, not passed on', async () => {
    await store.db.insertInto('decisions').values({ request_id: 'req_2', approver_id: 'usr_x', approver_name: 'x', decision: 'abstain', comment: null, created_at: at, lines: null, delegate_id: null, delegate_name: null }).execute();
    await expect(decisionStore.ofRequest(store.db, 'req_2')).rejects.toThrow(/abstain/);
    await store.db.updateTable('decisions').set({ decision: 'approve', lines: '{"sre":1}' }).where('approver_id', '=', 'usr_x').execute();
    await expect(decisionStore.tallyOf(store.db, 'req_2')).rejects.toThrow(/not a list/);
  });
});
