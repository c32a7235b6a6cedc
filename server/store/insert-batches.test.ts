import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { deadlineStore, type NewDeadline } from './deadlines.js';
import { outboxStore, type OutboxRecord } from './outbox.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const at = '2026-12-01T00:00:00.000Z';
const MANY = 5000;
const notification = (n: number): OutboxRecord => ({
  id: `ntf_${n}`,
  type: 'request.created',
  channel: 'email',
  destination: `approver-${n}`,
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
const deadline = (n: number): NewDeadline => ({ id: `ddl_${n}`, kind: 'reminder', requestId: 'req_1', grantJti: null, step: n, dueAt: at });

/** More rows than one statement may bind parameters for (SQLite 32,766, PostgreSQL 65,535) still go in, all or none. */
describe.each(await storeKinds())('thousands of rows written by one change on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());
  const count = async (table: 'outbox' | 'deadlines') => Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it.skipIf(skip)(`writes ${MANY} notifications of one request in its transaction, or none when the transaction fails`, async () => {
    const rows = Array.from({ length: MANY }, (_, n) => notification(n));
    await expect(
      store.db.transaction().execute(async (trx) => {
        await outboxStore.insert(trx, rows);
        throw new Error('the change failed after its notifications were written');
      }),
    ).rejects.toThrow('the change failed');
    expect(await count('outbox')).toBe(0);
    await store.db.transaction().execute((trx) => outboxStore.insert(trx, rows));
    expect(await count('outbox')).toBe(MANY);
    expect(await outboxStore.byId(store.db, `ntf_${MANY - 1}`)).toEqual(notification(MANY - 1));
  });

  it.skipIf(skip)(`writes ${2 * MANY} deadlines in one transaction`, async () => {
    await store.db.transaction().execute((trx) => deadlineStore.insert(trx, Array.from({ length: 2 * MANY }, (_, n) => deadline(n))));
    expect(await count('deadlines')).toBe(2 * MANY);
  });
});
