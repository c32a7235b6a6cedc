import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrozenRule } from '../../protocol/index.js';
import type { Store } from './database.js';
import { requestStore, toRequestRecord, toRequestRow, type RequestRecord } from './requests.js';
import { userStore } from './users.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';


const RULE: FrozenRule = {
  name: 'prod-deploys',
  approvers: ['sre'],
  minApprovals: 1,
  allowSelfApproval: false,
  escalation: [{ afterSeconds: 300, notify: ['leads'] }],
  expireAfterSeconds: 3600,
  grantTtlSeconds: 900,
  claimHoldsSeconds: 600,
  autoApprove: false,
};

const record = (id: string, changes: Partial<RequestRecord> = {}): RequestRecord => ({
  id,
  requester_id: 'usr_alice',
  requester_name: 'alice',
  action: 'deploy',
  resource: 'api',
  environment: 'prod',
  reason: 'release 1.2',
  risk: 'high',
  context: { summary: 'Ship it', links: [{ title: 'PR', url: 'https://example.com/pr/1' }], fields: { build: '42' } },
  requested_ttl_seconds: null,
  idempotency_key: null,
  status: 'pending',
  version: 1,
  rule: RULE,
  eligible_groups: ['sre'],
  eligible_users: [],
  escalation_level: 0,
  escalation_round: 0,
  next_escalation_at: '2026-12-01T00:05:00.000Z',
  expires_at: '2026-12-01T01:00:00.000Z',
  claim_by: null,
  claim_until: null,
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
  decided_at: null,
  decided_by: null,
  decided_for: null,
  not_before: null,
  extends_jti: null,
  submitted_with_token: null,
  ...changes,
});

describe('a request record and its row', () => {
  it('encode and decode each other, the JSON columns as text in the row only', () => {
    const row = toRequestRow(record('req_1'));
    expect(row.rule).toBe(JSON.stringify(RULE));
    expect(row.eligible_groups).toBe('["sre"]');
    expect(row.eligible_users).toBe('[]');
    expect(JSON.parse(row.context)).toEqual(record('req_1').context);
    expect(toRequestRecord(row)).toEqual(record('req_1'));
    expect(toRequestRow(toRequestRecord(row))).toEqual(row);
  });
});

/** The requests repository on both databases: what goes in comes back as the same typed record. */
describe.each(await storeKinds())('the requests repository on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
    for (const [id, name] of [['usr_alice', 'alice'], ['usr_dan', 'dan'], ['usr_erin', 'erin']] as const) {
      await userStore.insert(store.db, { id, name, roles: ['requester'], email: null, slackUserId: null, service: false, createdAt: '2026-12-01T00:00:00.000Z' });
    }
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('a request written, queued or not, is read back as the record that went in', async () => {
    const written = record('req_a', { idempotency_key: 'pipeline-1' });
    const queued = record('req_b', { idempotency_key: 'pipeline-2', eligible_users: ['bob'] });
    await store.db.transaction().execute(async (trx) => {
      await requestStore.insert(trx, store.dialect, written);
      requestStore.deferInsert(trx, store.dialect, queued);
      // Finding a key writes what this group commit queued first.
      expect(await requestStore.byIdempotencyKey(trx, 'usr_alice', 'pipeline-2')).toEqual(queued);
      expect(await requestStore.byIdempotencyKey(trx, 'usr_bob', 'pipeline-2')).toBeUndefined();
    });
    expect(await requestStore.byId(store.db, 'req_a')).toEqual(written);
    expect(await requestStore.byId(store.db, 'req_x')).toBeUndefined();
    await expect(requestStore.existing(store.db, 'req_x')).rejects.toThrow();
    expect((await requestStore.byIds(store.db, ['req_b', 'req_a'])).sort((a, b) => a.id.localeCompare(b.id))).toEqual([written, queued]);
    expect(await requestStore.byIds(store.db, [])).toEqual([]);
  });

  it.skipIf(skip)('the versioned update applies once per version, encoding the fields it changes', async () => {
    await requestStore.insert(store.db, store.dialect, record('req_v'));
    const current = await requestStore.existing(store.db, 'req_v');
    const changes = { eligible_groups: ['sre', 'leads'], escalation_level: 1, updated_at: '2026-12-01T00:05:00.000Z' };
    await store.db.transaction().execute(async (trx) => {
      expect(await requestStore.updateVersioned(trx, current, changes, 2)).toBe(true);
      // A second writer that read the same version loses.
      expect(await requestStore.updateVersioned(trx, current, { status: 'denied' }, 2)).toBe(false);
    });
    expect(await requestStore.existing(store.db, 'req_v')).toEqual({ ...current, ...changes, version: 2 });
    await store.db.transaction().execute(async (trx) => {
      await requestStore.bumpVersion(trx, 'req_v', '2026-12-01T00:06:00.000Z');
    });
    expect(await requestStore.existing(store.db, 'req_v')).toMatchObject({ version: 3, updated_at: '2026-12-01T00:06:00.000Z' });
  });

  it.skipIf(skip)('lists and sync reads find requests by an approver named in them, wildcards matching only themselves', async () => {
    await store.db.transaction().execute(async (trx) => {
      await requestStore.insert(trx, store.dialect, record('req_l1', { requester_id: 'usr_dan', eligible_groups: ['db_admins'] }));
      await requestStore.insert(trx, store.dialect, record('req_l2', { requester_id: 'usr_dan', eligible_groups: ['dbXadmins'] }));
      await requestStore.insert(trx, store.dialect, record('req_l3', { requester_id: 'usr_dan', eligible_groups: ['db_admins'], status: 'approved', updated_at: '2026-11-01T00:00:00.000Z' }));
      await requestStore.insert(trx, store.dialect, record('req_l4', { requester_id: 'usr_erin', eligible_users: ['dana'], extends_jti: 'gnt_1', status: 'approved' }));
    });
    const byGroup = [{ in: 'eligible_groups' as const, name: 'db_admins' }];
    expect((await requestStore.pendingNaming(store.db, byGroup)).map(({ id, eligible_groups, eligible_users }) => ({ id, eligible_groups, eligible_users }))).toEqual([
      { id: 'req_l1', eligible_groups: ['db_admins'], eligible_users: [] },
    ]);
    expect(await requestStore.pendingNaming(store.db, [])).toEqual([]);
    const page = await requestStore.page(store.db, { requesterId: 'usr_erin', orEligible: byGroup, limit: 10 });
    expect(page.map((row) => row.id)).toEqual(['req_l4', 'req_l3', 'req_l1']);
    expect(page[0]?.context).toEqual(record('x').context);
    expect((await requestStore.page(store.db, { status: 'approved', requesterId: 'usr_dan', before: 'req_l4', limit: 10 })).map((row) => row.id)).toEqual(['req_l3']);
    expect((await requestStore.page(store.db, { requesterId: 'usr_erin', orEligible: [{ in: 'eligible_users', name: 'dana' }], limit: 1 })).map((row) => row.id)).toEqual(['req_l4']);
    expect(await requestStore.openOrRecentOf(store.db, 'usr_dan', '2026-11-15T00:00:00.000Z', 10)).toEqual([
      { id: 'req_l2', version: 1 },
      { id: 'req_l1', version: 1 },
    ]);
    expect(await requestStore.liveExtensionOf(store.db, 'gnt_1')).toEqual({ id: 'req_l4', status: 'approved' });
    expect(await requestStore.liveExtensionOf(store.db, 'gnt_2')).toBeUndefined();
  });
});
