import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseClock, readDatabaseTime } from './database-clock.js';
import { capturedLog } from './test-support/captured-log.js';
import { POSTGRES_ADMIN_URL, postgresAvailability } from './test-support/postgres.js';
import { TcpProxy } from './test-support/tcp-proxy.js';
import { eventually } from './test-support/eventually.js';

const postgres = await postgresAvailability();
const FIVE_MINUTES = 300_000;
/** What a measurement over loopback may be off by, at most. */
const CLOSE_MS = 1_000;

describe.skipIf(!postgres.ok)(`a hub's measure of its PostgreSQL database's clock${postgres.ok ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  const pool = new pg.Pool({ connectionString: POSTGRES_ADMIN_URL, max: 1 });
  afterAll(() => pool.end());

  it("reads the database's time through a system clock 5 minutes ahead, and says once that the clock is off", async () => {
    const log = capturedLog('info');
    let shiftMs = FIVE_MINUTES;
    const corrections: number[] = [];
    const clock = new DatabaseClock(() => readDatabaseTime(pool), log.logger, () => Date.now() + shiftMs, (byMs) => corrections.push(byMs));
    await clock.measure();

    // This machine's clock is the database's (one host): the hub's reading of it agrees, not its own clock.
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(CLOSE_MS);
    expect(Math.abs((clock.ownClockAheadMs() ?? 0) - FIVE_MINUTES)).toBeLessThan(CLOSE_MS);
    const warnings = () => log.warnings().map((line) => line.msg);
    expect(warnings()).toEqual([expect.stringContaining("system clock is 5 min ahead of the database's")]);
    expect(warnings()[0]).toContain('synchronise it (NTP)');

    await clock.measure();
    expect(warnings()).toHaveLength(1);
    expect(corrections).toHaveLength(1);
    expect(Math.abs(corrections[0] ?? Number.NaN)).toBeLessThan(CLOSE_MS);

    // Set right (NTP stepped it back): the next measurement follows, and says so.
    shiftMs = 0;
    await clock.measure();
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(CLOSE_MS);
    expect(Math.abs(clock.ownClockAheadMs() ?? Number.NaN)).toBeLessThan(CLOSE_MS);
    expect(Math.abs((corrections[1] ?? Number.NaN) - FIVE_MINUTES)).toBeLessThan(CLOSE_MS);
    expect(log.lines().filter((line) => line.level === 30).map((line) => line.msg)).toEqual(["this hub's system clock agrees with the database's again"]);

    // Off again, the other way: said again.
    shiftMs = -2 * FIVE_MINUTES;
    await clock.measure();
    expect(warnings()).toHaveLength(2);
    expect(warnings()[1]).toContain('10 min behind');
  });

  it('gives up on a reading whose connection stopped answering (half-open), and closes that connection rather than keeping it in the pool', async () => {
    const target = new URL(POSTGRES_ADMIN_URL);
    const proxy = await new TcpProxy(Number(target.port || 5432), target.hostname).start();
    const viaProxy = new URL(POSTGRES_ADMIN_URL);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const silentPool = new pg.Pool({ connectionString: viaProxy.toString(), max: 1 });
    try {
      await readDatabaseTime(silentPool);
      proxy.strandOpenConnections();
      await expect(readDatabaseTime(silentPool, 500)).rejects.toThrow('PostgreSQL did not answer within 0.5 s');
      // Closed: the pool ends at once, and its one connection is free for a reading that works.
      await eventually(() => proxy.connections === 0, { what: 'the silent connection to be closed' });
      expect(Math.abs((await readDatabaseTime(silentPool)) - Date.now())).toBeLessThan(CLOSE_MS);
      await silentPool.end();
    } finally {
      await proxy.close();
    }
  });

  it('knows nothing of the offset before it has measured, and keeps the last measurement when the database does not answer', async () => {
    const log = capturedLog();
    let answers = true;
    const clock = new DatabaseClock(
      () => (answers ? readDatabaseTime(pool) : Promise.reject(new Error('connection refused'))),
      log.logger,
      () => Date.now() - FIVE_MINUTES,
    );
    expect(clock.ownClockAheadMs()).toBeNull();
    await clock.measure();
    answers = false;
    await expect(clock.measure()).rejects.toThrow('connection refused');
    expect(Math.abs((clock.ownClockAheadMs() ?? 0) + FIVE_MINUTES)).toBeLessThan(CLOSE_MS);
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(CLOSE_MS);
  });
});
