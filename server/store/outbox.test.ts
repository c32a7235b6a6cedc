import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { outboxStore, type OutboxRecord } from './outbox.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const at = '2026-12-01T00:00:00.000Z';
const pending = (id: string, destination = 'ops'): OutboxRecord => ({
  id,
  type: 'request.created',
  channel: 'webhook',
  destination,
  requestId: 'req_1',
  payload: '{"type":"request.created"}',
  status: 'pending',
  attempts: 0,
  nextAttemptAt: at,
  leaseUntil: null,
  leaseOwner: null,
  lastError: null,
  lastStatus: null,
  createdAt: at,
  updatedAt: at,
  deliveredAt: null,
});

/** Notifications go in as records and come back as records: counters as numbers, the status one of the known ones. */
describe.each(await storeKinds())('outbox records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('a claimed row is leased to its claimer, and only the lease holder files its outcome', async () => {
    await outboxStore.insert(store.db, [pending('ntf_1'), pending('ntf_2'), pending('ntf_3', 'elsewhere')]);
    expect(await outboxStore.byId(store.db, 'ntf_1')).toEqual(pending('ntf_1'));
    expect(await outboxStore.pendingCount(store.db)).toBe(3);
    const claim = { now: at, leaseUntil: '2026-12-01T00:01:00.000Z', owner: 'hub_a', limit: 5, skipLocked: kind === 'PostgreSQL' };
    const claimed = await store.db.transaction().execute((trx) => outboxStore.claimDue(trx, { channel: 'webhook', destination: 'ops' }, claim));
    expect(claimed.map((row) => row.id)).toEqual(['ntf_1', 'ntf_2']);
    expect(await outboxStore.nextDueNotLeasedBy(store.db, 'hub_a')).toBe(at);
    expect(await outboxStore.updateLeased(store.db, 'ntf_1', 'hub_b', { status: 'delivered' })).toBe(false);
    expect(await outboxStore.updateLeased(store.db, 'ntf_1', 'hub_a', { status: 'failed', attempts: 3, lastStatus: 500, lastError: 'boom', leaseUntil: null, leaseOwner: null })).toBe(true);
    expect(await outboxStore.byId(store.db, 'ntf_1')).toEqual({ ...pending('ntf_1'), status: 'failed', attempts: 3, lastStatus: 500, lastError: 'boom' });
    expect(await outboxStore.byId(store.db, 'ntf_2')).toMatchObject({ leaseOwner: 'hub_a', leaseUntil: '2026-12-01T00:01:00.000Z' });
    expect(await outboxStore.retryFailed(store.db, 'ntf_2', { status: 'pending' })).toBe(false);
    expect(await outboxStore.retryFailed(store.db, 'ntf_1', { status: 'pending', attempts: 0 })).toBe(true);
    expect((await outboxStore.page(store.db, { status: 'pending', limit: 2 })).map((row) => row.id)).toEqual(['ntf_3', 'ntf_2', 'ntf_1']);
    await outboxStore.freeLeasesOf(store.db, 'hub_a');
    expect(await outboxStore.byId(store.db, 'ntf_2')).toEqual(pending('ntf_2'));
    await outboxStore.failPendingOfChannel(store.db, 'webhook', ['ops'], 'gone', at);
    expect(await outboxStore.byId(store.db, 'ntf_3')).toMatchObject({ status: 'failed', lastError: 'gone' });
    expect(await outboxStore.failPendingOfEndpoint(store.db, { channel: 'webhook', destination: null }, 'disabled', at)).toBe(2);
    expect(await outboxStore.pendingCount(store.db)).toBe(0);
  });

  it.skipIf(skip)('giving up on a channel leaves alone the rows another hub is sending right now', async () => {
    const live = { ...pending('ntf_live', 'retired'), leaseOwner: 'hub_other', leaseUntil: '2026-12-01T00:05:00.000Z' };
    const lapsed = { ...pending('ntf_lapsed', 'retired'), leaseOwner: 'hub_dead', leaseUntil: '2026-12-01T00:00:30.000Z' };
    await outboxStore.insert(store.db, [live, lapsed, pending('ntf_free', 'retired')]);
    await outboxStore.failPendingOfChannel(store.db, 'webhook', ['ops'], 'gone', '2026-12-01T00:01:00.000Z');
    expect(await outboxStore.byId(store.db, 'ntf_live')).toMatchObject({ status: 'pending' });
    expect(await outboxStore.byId(store.db, 'ntf_lapsed')).toMatchObject({ status: 'failed', lastError: 'gone' });
    expect(await outboxStore.byId(store.db, 'ntf_free')).toMatchObject({ status: 'failed', lastError: 'gone' });
    await store.db.deleteFrom('outbox').execute();
  });

  it.skipIf(skip)('a status the hub never writes is refused, not passed on', async () => {
    await outboxStore.insert(store.db, [{ ...pending('ntf_9'), status: 'pending' }]);
    await store.db.updateTable('outbox').set({ status: 'lost' }).where('id', '=', 'ntf_9').execute();
    await expect(outboxStore.byId(store.db, 'ntf_9')).rejects.toThrow(/lost/);
  });
});
