import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Store } from '../store/database.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';
import { appendAudit } from './audit.js';
import { releasePendingPlace, takePendingPlace } from './pending-places.js';

const at = new Date('2026-12-03T00:00:00.000Z');

/**
 * A group commit takes pending places for several requesters in one transaction while a decision
 * elsewhere frees one of them; on SQLite writers never overlap, so this is about PostgreSQL.
 */
describe.each((await storeKinds()).filter((entry) => entry.kind === 'PostgreSQL'))('pending places and the audit chain on $label', ({ skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore('PostgreSQL'));
    await store.db.insertInto('pending_counts').values({ requester_id: 'usr_y', rule_name: 'deploys', pending: 1 }).execute();
  });
  afterAll(async () => cleanup());

  /** Resolves once some transaction of this database waits for a lock another holds (or `until` settles). */
  async function someoneWaitsForALock(until: Promise<unknown>): Promise<void> {
    let settled = false;
    void until.finally(() => (settled = true)).catch(() => undefined);
    while (!settled) {
      const { rows } = await sql<{ waiting: string }>`select count(*) as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(store.db);
      if (Number(rows[0]?.waiting ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it.skipIf(skip)("a burst taking two requesters' places and a decision freeing the second one's both commit, neither waiting on the other in a cycle", async () => {
    let burstHoldsTheChain!: () => void;
    const chainHeld = new Promise<void>((resolve) => (burstHoldsTheChain = resolve));
    let decisionBlocked!: () => void;
    const blocked = new Promise<void>((resolve) => (decisionBlocked = resolve));

    // The group commit: requester x's submission (its place, then its audit event), then requester y's.
    const burst = store.db.transaction().execute(async (trx) => {
      await takePendingPlace(trx, store.dialect, 'usr_x', 'deploys', 10);
      await appendAudit(trx, store.dialect, at, { actor: 'x', type: 'request.submitted' });
      burstHoldsTheChain();
      await blocked;
      return takePendingPlace(trx, store.dialect, 'usr_y', 'deploys', 10);
    });
    // A decision on one of y's requests: it frees y's place and writes its audit event.
    const decision = chainHeld.then(() =>
      store.db.transaction().execute(async (trx) => {
        const work = (async () => {
          await releasePendingPlace(trx, store.dialect, 'usr_y', 'deploys');
          await appendAudit(trx, store.dialect, at, { actor: 'approver', type: 'request.approved' });
        })();
        await Promise.race([work, someoneWaitsForALock(work)]);
        decisionBlocked();
        await work;
      }),
    );
    // Before the places took the chain's head first, PostgreSQL found a deadlock here (40P01) after
    // a second, and aborted one of the two.
    const [burstOutcome, decisionOutcome] = await Promise.allSettled([burst, decision]);
    expect(burstOutcome).toEqual({ status: 'fulfilled', value: expect.any(Number) });
    expect(decisionOutcome.status).toBe('fulfilled');
  });
});
