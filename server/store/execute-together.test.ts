import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type CompiledQuery, type Transaction } from 'kysely';
import type { Store } from './database.js';
import type { Database } from './schema.js';
import { executeTogether } from './execute-together.js';
import { insertStatements } from './prepared-insert.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const at = '2026-12-03T00:00:00.000Z';
const user = (id: string) => ({ id, name: id, roles: '["requester"]', disabled: 0, created_at: at, email: null, service: 0 });
const token = (hash: string, userId: string) => ({ hash, id: `tok_${hash}`, user_id: userId, name: 'ci', kind: 'api', scopes: '[]', created_at: at, expires_at: null, last_used_at: null });

/** The transaction, with the statements sent through it counted. */
function counting(trx: Transaction<Database>): { trx: Transaction<Database>; sent: () => number } {
  let sent = 0;
  const proxy = new Proxy(trx, {
    get(target, property) {
      if (property === 'executeQuery') {
        return (query: CompiledQuery) => {
          sent += 1;
          return target.executeQuery(query);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { trx: proxy, sent: () => sent };
}

/** A group commit's last writes (counters, queued rows, the chain's head) go as one statement on PostgreSQL. */
describe.each(await storeKinds())('writing several statements together on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());

  const countOf = async (table: 'users' | 'tokens', prefix: string) =>
    (await store.db.selectFrom(table).select('id').where('id', 'like', `${prefix}%`).execute()).length;

  it.skipIf(skip)('writes every table, a row referring to one inserted beside it, each value where it belongs, in one statement on PostgreSQL', async () => {
    await store.db.insertInto('users').values(user('a_0')).execute();
    const sent = await store.db.transaction().execute(async (plain) => {
      const { trx, sent } = counting(plain);
      await executeTogether(trx, store.dialect, [
        ...insertStatements(trx, store.dialect, 'users', [user('a_1'), user('a_2')]),
        ...insertStatements(trx, store.dialect, 'tokens', [token('a_h1', 'a_1')]),
        trx.updateTable('users').set({ email: 'a0@example.com', roles: '["approver"]' }).where('id', '=', 'a_0').compile(),
      ]);
      return sent();
    });
    expect(await countOf('users', 'a_')).toBe(3);
    expect(await store.db.selectFrom('tokens').select(['user_id', 'name']).where('id', '=', 'tok_a_h1').executeTakeFirst()).toEqual({ user_id: 'a_1', name: 'ci' });
    // The update's values came after eleven others: renumbered, they still land in their columns.
    expect(await store.db.selectFrom('users').select(['email', 'roles']).where('id', '=', 'a_0').executeTakeFirst()).toEqual({ email: 'a0@example.com', roles: '["approver"]' });
    expect(sent).toBe(store.dialect === 'postgres' ? 1 : 3);
  });

  it.skipIf(skip)('refuses, on PostgreSQL, to renumber a statement whose `$n` do not match its parameters (a literal one, say)', async () => {
    const attempt = store.db.transaction().execute(async (trx) =>
      executeTogether(trx, store.dialect, [...insertStatements(trx, store.dialect, 'users', [user('d_1')]), sql`update users set name = 'costs $9' where id = ${'d_1'}`.compile(trx)]),
    );
    if (store.dialect === 'postgres') await expect(attempt).rejects.toThrow('placeholders');
    else await attempt;
  });

  it.skipIf(skip)('one failing part leaves nothing of the others written, sent as one statement on PostgreSQL', async () => {
    await store.db.insertInto('users').values(user('b_taken')).execute();
    let sent = 0;
    const attempt = store.db.transaction().execute(async (plain) => {
      const counted = counting(plain);
      const trx = counted.trx;
      await executeTogether(trx, store.dialect, [
        ...insertStatements(trx, store.dialect, 'users', [user('b_new')]),
        ...insertStatements(trx, store.dialect, 'tokens', [token('b_h1', 'b_new')]),
        ...insertStatements(trx, store.dialect, 'users', [user('b_taken')]),
      ]).finally(() => (sent = counted.sent()));
    });
    await expect(attempt).rejects.toThrow();
    // SQLite stops at the failing third.
    expect(sent).toBe(store.dialect === 'postgres' ? 1 : 3);
    expect(await countOf('users', 'b_')).toBe(1);
    expect(await countOf('tokens', 'tok_b_')).toBe(0);
  });

  it.skipIf(skip)("stays within PostgreSQL's limit of bound parameters, however many rows there are", async () => {
    // 7 bound columns × 10,000 rows is past the 65,535 one statement may carry.
    const rows = Array.from({ length: 10_000 }, (_, index) => user(`c_${index}`));
    const sent = await store.db.transaction().execute(async (plain) => {
      const { trx, sent } = counting(plain);
      await executeTogether(trx, store.dialect, insertStatements(trx, store.dialect, 'users', rows));
      return sent();
    });
    expect(await countOf('users', 'c_')).toBe(10_000);
    if (store.dialect === 'postgres') expect(sent).toBe(2);
  });
});
