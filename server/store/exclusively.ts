import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

interface LockingStore {
  db: Kysely<Database>;
  dialect: 'sqlite' | 'postgres';
}

const running = new WeakMap<LockingStore, Map<string, Promise<unknown>>>();

/**
 * Runs `work` for `key` one at a time: after any run for the same key on this hub and, on
 * PostgreSQL, on every other hub too (an advisory lock held by a transaction while `work` runs,
 * which takes one of the pool's connections for that long: for rare, short work only).
 * For work with an outside effect that must not happen twice, such as posting a Slack message that
 * is recorded only once posted.
 */
export async function exclusively<T>(store: LockingStore, key: string, work: () => Promise<T>): Promise<T> {
  let mine = running.get(store);
  if (!mine) running.set(store, (mine = new Map()));
  const before = mine.get(key) ?? Promise.resolve();
  const run = before
    .catch(() => undefined)
    .then(() =>
      store.dialect === 'postgres'
        ? store.db.transaction().execute(async (trx) => {
            // The transaction only holds the lock while `work` calls out (Slack, say): it may sit
            // idle longer than the database lets an abandoned one (IDLE_IN_TRANSACTION_TIMEOUT).
            await sql`set local idle_in_transaction_session_timeout = '5min'`.execute(trx);
            await sql`select pg_advisory_xact_lock(hashtext(${key}))`.execute(trx);
            return work();
          })
        : work(),
    );
  mine.set(key, run);
  try {
    return await run;
  } finally {
    if (mine.get(key) === run) mine.delete(key);
  }
}
