import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';
import { appendAudit } from './audit.js';
import { inTransaction } from './context.js';
import { releasePendingPlace, takePendingPlace } from './pending-places.js';

const at = new Date('2026-12-03T00:00:00.000Z');

/** Resolves with a function that `signal` calls; the promise settles when it is called. */
function signal(): { wait: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const wait = new Promise<void>((resolve) => (fire = resolve));
  return { wait, fire };
}

/**
 * Writers on PostgreSQL take locks in one order, the audit chain's head first, so two of them never
 * wait on each other in a cycle (PostgreSQL would abort one after its one-second deadlock timeout,
 * a stall for everyone waiting on it). On SQLite writers never overlap.
 */
describe.each((await storeKinds()).filter((entry) => entry.kind === 'PostgreSQL'))('lock order on $label', ({ skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore('PostgreSQL'));
    await store.db.insertInto('pending_counts').values({ requester_id: 'usr_y', rule_name: 'deploys', pending: 1 }).execute();
    await store.db.insertInto('users').values({ id: 'usr_u', name: 'uma', roles: '["approver"]', disabled: 0, created_at: at.toISOString(), email: null, service: 0 }).execute();
  });
  afterAll(async () => cleanup());

  /** Resolves once some transaction of this database waits for a lock another holds, or once `until` settles. */
  async function someoneWaitsForALock(until: Promise<unknown>): Promise<void> {
    let settled = false;
    void until.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      const { rows } = await sql<{ waiting: string }>`select count(*) as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db);
      if (Number(rows[0]?.waiting ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it.skipIf(skip)("a burst taking two requesters' places and a decision freeing the second one's both commit", async () => {
    const burstHoldsTheChain = signal();
    const decisionBlocked = signal();
    const runs = { burst: 0, decision: 0 };
    // The group commit: requester x's submission (its place, then its audit event), then requester y's.
    const burst = inTransaction({ store }, async (trx) => {
      runs.burst += 1;
      await takePendingPlace(trx, 'usr_x', 'deploys', 10);
      await appendAudit(trx, store.dialect, at, { actor: 'x', type: 'request.submitted' });
      burstHoldsTheChain.fire();
      await decisionBlocked.wait;
      return takePendingPlace(trx, 'usr_y', 'deploys', 10);
    });
    // A decision on one of y's requests: it frees y's place and writes its audit event.
    const decision = burstHoldsTheChain.wait.then(() => {
      const done = inTransaction({ store }, async (trx) => {
        runs.decision += 1;
        await releasePendingPlace(trx, 'usr_y', 'deploys');
        await appendAudit(trx, store.dialect, at, { actor: 'approver', type: 'request.approved' });
      });
      // Once it waits on the burst (wherever it does), the burst goes on to y's place.
      void someoneWaitsForALock(done).then(() => decisionBlocked.fire());
      return done;
    });
    await Promise.all([burst, decision]);
    // Before writers took the chain's head first, this was a deadlock every time: PostgreSQL aborted
    // one of the two, and inTransaction ran it again.
    expect(runs).toEqual({ burst: 1, decision: 1 });
  });

  it.skipIf(skip)('a writer that locks a row before appending and one that appended before wanting that row each run once', async () => {
    const rowLocked = signal();
    const runs = { first: 0, second: 0 };
    // Like a decision: the request's row first (here a user's), its audit event after.
    const first = inTransaction({ store }, async (trx) => {
      runs.first += 1;
      await trx.updateTable('users').set({ email: 'uma@example.com' }).where('id', '=', 'usr_u').execute();
      rowLocked.fire();
      await Promise.race([second, someoneWaitsForALock(second)]);
      await appendAudit(trx, store.dialect, at, { actor: 'uma', type: 'request.approved' });
    });
    // Like a batch of deadlines: an audit event for an earlier one, then the row of the next.
    const second = rowLocked.wait.then(() =>
      inTransaction({ store }, async (trx) => {
        runs.second += 1;
        await appendAudit(trx, store.dialect, at, { actor: 'greenlight', type: 'request.escalated' });
        await trx.updateTable('users').set({ email: 'uma@example.org' }).where('id', '=', 'usr_u').execute();
      }),
    );
    await Promise.all([first, second]);
    // A deadlock would have aborted one of them, and inTransaction would have run it a second time.
    expect(runs).toEqual({ first: 1, second: 1 });
    expect((await store.db.selectFrom('users').select('email').where('id', '=', 'usr_u').executeTakeFirstOrThrow()).email).toBe('uma@example.org');
  });
});
