import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { deadlineStore, type NewRequestDeadline } from './deadlines.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const deadline = (id: string, changes: Partial<NewRequestDeadline> = {}): NewRequestDeadline => ({ id, kind: 'escalation', requestId: 'req_1', grantJti: null, step: 0, dueAt: '2026-12-01T00:05:00.000Z', ...changes });

/** Deadlines go in as records and come back as records: the kind one of the known ones, done a boolean. */
describe.each(await storeKinds())('deadline records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('due deadlines come earliest first; closing them by request, kind or grant leaves the rest open', async () => {
    await deadlineStore.insert(store.db, [
      deadline('ddl_1', { step: 1, dueAt: '2026-12-01T00:10:00.000Z' }),
      deadline('ddl_2'),
      deadline('ddl_3', { kind: 'claim_end', step: null }),
      deadline('ddl_4', { kind: 'grant_expiry', grantJti: 'gnt_1', step: null, dueAt: '2026-12-01T01:00:00.000Z' }),
    ]);
    expect(await deadlineStore.nextDue(store.db)).toBe('2026-12-01T00:05:00.000Z');
    const due = await store.db.transaction().execute((trx) => deadlineStore.claimDue(trx, '2026-12-01T00:10:00.000Z', 10, kind === 'PostgreSQL'));
    expect(due.map((d) => d.id).sort()).toEqual(['ddl_1', 'ddl_2', 'ddl_3']);
    expect(due.find((d) => d.id === 'ddl_1')).toEqual({ ...deadline('ddl_1', { step: 1, dueAt: '2026-12-01T00:10:00.000Z' }), done: false });
    expect(due[due.length - 1]?.dueAt).toBe('2026-12-01T00:10:00.000Z');
    await deadlineStore.closeOfRequest(store.db, 'req_1', 'claim_end');
    expect((await deadlineStore.openOfRequest(store.db, 'req_1', 'claim_end')).length).toBe(0);
    await deadlineStore.moveTo(store.db, 'ddl_2', '2026-12-01T00:30:00.000Z');
    await deadlineStore.markDone(store.db, 'ddl_1');
    expect(await deadlineStore.openOfRequest(store.db, 'req_1', 'escalation')).toEqual([{ ...deadline('ddl_2', { dueAt: '2026-12-01T00:30:00.000Z' }), done: false }]);
    await deadlineStore.closeOfRequestExcept(store.db, 'req_1', ['grant_expiry', 'grant_expiring']);
    expect(await deadlineStore.nextDue(store.db)).toBe('2026-12-01T01:00:00.000Z');
    await deadlineStore.closeOfGrant(store.db, 'gnt_1');
    expect(await deadlineStore.nextDue(store.db)).toBeNull();
  });

  it.skipIf(skip)("a delegation's end comes back naming the delegation, and closing a request's deadlines leaves it open", async () => {
    await deadlineStore.insert(store.db, [
      { id: 'ddl_30', kind: 'delegation_end', delegationId: 'dlg_1', dueAt: '2026-12-03T00:00:00.000Z' },
      deadline('ddl_31', { requestId: 'req_30', dueAt: '2026-12-03T00:00:00.000Z' }),
    ]);
    await deadlineStore.closeOfRequestExcept(store.db, 'req_30', ['grant_expiry']);
    const due = await store.db.transaction().execute((trx) => deadlineStore.claimDue(trx, '2026-12-03T00:00:00.000Z', 10, kind === 'PostgreSQL'));
    expect(due).toEqual([{ id: 'ddl_30', kind: 'delegation_end', delegationId: 'dlg_1', dueAt: '2026-12-03T00:00:00.000Z', done: false }]);
    await deadlineStore.markDone(store.db, 'ddl_30');
  });

  it.skipIf(skip)('a kind the hub does not know is left alone: never claimed, never holding up the others, never closed', async () => {
    await store.db.insertInto('deadlines').values({ id: 'ddl_9', kind: 'someday', request_id: 'req_9', grant_jti: null, step: null, due_at: '2026-12-01T00:00:00.000Z', done: 0 }).execute();
    await deadlineStore.insert(store.db, [{ id: 'ddl_10', kind: 'expiry', requestId: 'req_10', grantJti: null, step: null, dueAt: '2026-12-01T00:00:01.000Z' }]);
    await expect(deadlineStore.openOfRequest(store.db, 'req_9', 'escalation')).resolves.toEqual([]);
    expect(await deadlineStore.nextDue(store.db)).toBe('2026-12-01T00:00:01.000Z');
    const claimed = await store.db.transaction().execute((trx) => deadlineStore.claimDue(trx, '2026-12-01T00:10:00.000Z', 10, kind === 'PostgreSQL'));
    expect(claimed.map((deadline) => deadline.id)).toEqual(['ddl_10']);
    expect((await store.db.selectFrom('deadlines').select('done').where('id', '=', 'ddl_9').executeTakeFirstOrThrow()).done).toBe(0);
  });

  it.skipIf(skip)("a delegation's end that names no delegation (damaged) is left alone: never claimed, never holding up the others, never closed", async () => {
    await store.db.insertInto('deadlines').values({ id: 'ddl_40', kind: 'delegation_end', request_id: '', grant_jti: null, delegation_id: null, step: null, due_at: '2026-11-30T00:00:00.000Z', done: 0 }).execute();
    await deadlineStore.insert(store.db, [{ id: 'ddl_41', kind: 'expiry', requestId: 'req_41', grantJti: null, step: null, dueAt: '2026-11-30T00:00:01.000Z' }]);
    expect(await deadlineStore.nextDue(store.db)).toBe('2026-11-30T00:00:01.000Z');
    const claimed = await store.db.transaction().execute((trx) => deadlineStore.claimDue(trx, '2026-11-30T00:10:00.000Z', 10, kind === 'PostgreSQL'));
    expect(claimed.map((deadline) => deadline.id)).toEqual(['ddl_41']);
    await deadlineStore.markDone(store.db, 'ddl_41');
    expect((await store.db.selectFrom('deadlines').select('done').where('id', '=', 'ddl_40').executeTakeFirstOrThrow()).done).toBe(0);
  });

  it.skipIf(skip)("closing a delegation's deadlines leaves other delegations' and requests' open", async () => {
    await deadlineStore.insert(store.db, [
      { id: 'ddl_50', kind: 'delegation_end', delegationId: 'dlg_50', dueAt: '2026-12-04T00:00:00.000Z' },
      { id: 'ddl_51', kind: 'delegation_end', delegationId: 'dlg_51', dueAt: '2026-12-04T00:00:00.000Z' },
      deadline('ddl_52', { requestId: 'req_52', dueAt: '2026-12-04T00:00:00.000Z' }),
    ]);
    await deadlineStore.closeOfDelegation(store.db, 'dlg_50');
    const open = await store.db.selectFrom('deadlines').select('id').where('id', 'in', ['ddl_50', 'ddl_51', 'ddl_52']).where('done', '=', 0).orderBy('id').execute();
    expect(open.map((row) => row.id)).toEqual(['ddl_51', 'ddl_52']);
    await store.db.updateTable('deadlines').set({ done: 1 }).where('id', 'in', ['ddl_51', 'ddl_52']).execute();
  });

  it.skipIf(skip)('postponing moves an open deadline only while it is still due when it was claimed', async () => {
    await deadlineStore.insert(store.db, [deadline('ddl_20', { requestId: 'req_20', dueAt: '2026-12-02T00:05:00.000Z' }), deadline('ddl_21', { requestId: 'req_20', dueAt: '2026-12-02T00:05:00.000Z' })]);
    expect(await deadlineStore.postpone(store.db, 'ddl_20', '2026-12-02T00:05:00.000Z', '2026-12-02T00:05:01.000Z')).toBe(true);
    // Moved or closed meanwhile (by another hub): left as it is.
    expect(await deadlineStore.postpone(store.db, 'ddl_20', '2026-12-02T00:05:00.000Z', '2026-12-02T00:09:00.000Z')).toBe(false);
    await deadlineStore.markDone(store.db, 'ddl_21');
    expect(await deadlineStore.postpone(store.db, 'ddl_21', '2026-12-02T00:05:00.000Z', '2026-12-02T00:09:00.000Z')).toBe(false);
    const rows = await store.db.selectFrom('deadlines').selectAll().where('request_id', '=', 'req_20').orderBy('id').execute();
    expect(rows.map((row) => [row.id, row.due_at, Number(row.done)])).toEqual([
      ['ddl_20', '2026-12-02T00:05:01.000Z', 0],
      ['ddl_21', '2026-12-02T00:05:00.000Z', 1],
    ]);
  });
});
