import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub } from './hub.js';
import { createTestDatabase, POSTGRES_ADMIN_URL, postgresAvailability } from './test-support/postgres.js';
import { sharedTestKeyFiles } from './test-support/test-keys.js';
import { capturedLog } from './test-support/captured-log.js';
import { eventually } from './test-support/eventually.js';

const pgAvailable = await postgresAvailability();

/** Files this process holds open under `dir` (Linux: its /proc fd table). */
function filesOpenUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return [];
    }
  });
}

async function connectionsTo(databaseUrl: string): Promise<number> {
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ count: string }>('select count(*) from pg_stat_activity where datname = $1', [new URL(databaseUrl).pathname.slice(1)]);
    return Number(rows[0]?.count);
  } finally {
    await admin.end();
  }
}

describe('a start that fails once its database is open (its port is taken)', () => {
  let taken: Server;
  let port = 0;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-failed-start-'));
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => taken.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });
  const log = capturedLog();
  const start = (databaseUrl?: string) =>
    startHub({ port, host: '127.0.0.1', dataDir, databaseUrl, logger: log.logger, consoleDir: null, print: () => undefined, ...sharedTestKeyFiles() });
  /** What closing the failed start's parts logged as going wrong: nothing, when each closes in its turn. */
  const closingTrouble = () => log.lines().filter((line) => line.msg === 'a part of the failed start did not close cleanly');

  it.runIf(process.platform === 'linux')('on SQLite: refuses with the port named, and leaves the database file closed', async () => {
    await expect(start()).rejects.toThrow(new RegExp(`EADDRINUSE.*:${port}`));
    expect(filesOpenUnder(dataDir)).toEqual([]);
    expect(closingTrouble()).toEqual([]);
  });

  it.skipIf(!pgAvailable.ok)('on PostgreSQL: refuses with the port named, and leaves no connection to the database', async () => {
    const database = await createTestDatabase();
    try {
      await expect(start(database.url)).rejects.toThrow(new RegExp(`EADDRINUSE.*:${port}`));
      // A backend stays in pg_stat_activity until its process exits, a moment after the hub hangs up;
      // a connection the hub kept open would stay for good.
      await eventually(async () => (await connectionsTo(database.url)) === 0, { what: 'the failed start\'s connections to end', deadline: 10_000 });
      expect(closingTrouble()).toEqual([]);
    } finally {
      await database.drop();
    }
  });
});
