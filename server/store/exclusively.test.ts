import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../clock.js';
import { openStore, type Store } from './database.js';
import { CLAIM_LEASE_MS, exclusively } from './exclusively.js';
import { capturedLog } from '../test-support/captured-log.js';
import { eventually } from '../test-support/eventually.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';

const pg = await postgresAvailability();

/** A promise a test settles when it chooses: work that lasts until then (an outside call awaited). */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe.skipIf(!pg.ok)(`work run one at a time across hubs, on PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let storeA: Store, storeB: Store;
  beforeAll(async () => {
    database = await createTestDatabase();
    storeA = await openStore({ databaseUrl: database.url });
    storeB = await openStore({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await storeA?.close();
    await storeB?.close();
    await database?.drop();
  });

  const openTransactions = async (store: Store) => {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`.execute(store.db);
    return rows[0]?.n ?? -1;
  };

  it('takes turns between two hubs, and holds no transaction open while the work waits on the outside', async () => {
    const logB = capturedLog<{ level: number; msg: string }>('info');
    const hubA = { store: storeA, clock: systemClock, log: pino({ level: 'silent' }) };
    const hubB = { store: storeB, clock: systemClock, log: logB.logger };
    const order: string[] = [];
    const slowA = gate();
    const startedA = gate();
    const a = exclusively(hubA, 'slack:req_1:#deploys', async () => {
      order.push('a start');
      startedA.open();
      await slowA.opened;
      order.push('a end');
    });
    await startedA.opened;
    const b = exclusively(hubB, 'slack:req_1:#deploys', async () => {
      order.push('b start');
    });
    await eventually(() => logB.lines().some((line) => line.msg.startsWith('another hub is doing this now')), { what: 'hub B waiting for hub A' });

    expect(await openTransactions(storeA)).toBe(0);
    slowA.open();
    await Promise.all([a, b]);
    expect(order).toEqual(['a start', 'a end', 'b start']);
  });

  it('takes over a claim whose holder stopped renewing it once its lease ends; the old holder can no longer renew it', async () => {
    const clockB = new ManualClock(new Date());
    const logB = capturedLog<{ level: number; msg: string }>('info');
    const hubA = { store: storeA, clock: systemClock, log: pino({ level: 'silent' }) };
    const hubB = { store: storeB, clock: clockB, log: logB.logger };
    const stalled = gate();
    const startedA = gate();
    const a = exclusively(hubA, 'slack:req_2:dm', async (lease) => {
      startedA.open();
      await stalled.opened;
      await lease.renew();
    });
    await startedA.opened;
    let ranB = false;
    const b = exclusively(hubB, 'slack:req_2:dm', async () => {
      ranB = true;
    });
    await eventually(() => logB.lines().some((line) => line.msg.startsWith('another hub is doing this now')), { what: 'hub B waiting for hub A' });
    expect(ranB).toBe(false);

    clockB.advance(CLAIM_LEASE_MS + 5_000);
    await b;
    expect(ranB).toBe(true);
    stalled.open();
    await expect(a).rejects.toThrow(/another hub took over slack:req_2:dm/);
  });
});
