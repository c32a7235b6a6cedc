import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './database.js';
import { exclusively } from './exclusively.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';

const pg = await postgresAvailability();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!pg.ok)(`work run one at a time across hubs, on PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let hubA: Store, hubB: Store;
  beforeAll(async () => {
    database = await createTestDatabase();
    // Sessions idle inside a transaction for a second are ended, as the hub sets it (shorter here).
    hubA = await openStore({ databaseUrl: database.url, idleInTransactionTimeout: '1s' });
    hubB = await openStore({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await hubA?.close();
    await hubB?.close();
    await database?.drop();
  });

  it('takes turns between two stores, even when the work outlasts the idle-in-transaction timeout', async () => {
    const order: string[] = [];
    const slow = (name: string) => async () => {
      order.push(`${name} start`);
      await pause(1_500);
      order.push(`${name} end`);
      return name;
    };
    const results = await Promise.all([exclusively(hubA, 'slack:req_1:#deploys', slow('a')), exclusively(hubB, 'slack:req_1:#deploys', slow('b'))]);
    expect(results.sort()).toEqual(['a', 'b']);
    // Never both inside at once.
    expect(order[1]).toMatch(/ end$/);
    expect(order[0]?.split(' ')[0]).toBe(order[1]?.split(' ')[0]);
  });
});
