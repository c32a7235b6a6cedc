import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';
import { cli, CliHub, TEST_POLICY } from './cli-harness.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const availability = await postgresAvailability();
const skipped = availability.ok ? '' : ` (skipped: ${availability.reason})`;
let database: Awaited<ReturnType<typeof createTestDatabase>> | null = null;
let hub: CliHub | null = null;

beforeAll(async () => {
  if (!availability.ok) return;
  database = await createTestDatabase();
  hub = new CliHub(TEST_POLICY, database.url);
  await hub.start();
});
afterAll(async () => {
  await hub?.dispose();
  await database?.drop();
});

it.skipIf(!availability.ok)(`runs the hub on PostgreSQL from GREENLIGHT_DATABASE_URL and verifies that chain offline with --database-url${skipped}`, async () => {
  if (!hub || !database) throw new Error('not started');
  const dev = await hub.addUser('dev', ['requester']);
  const sre = await hub.addUser('sre-1', ['approver'], ['sre']);
  const id = (await cli(['request', '--action', 'deploy', '--resource', 'api', '--env', 'production', '--reason', 'on postgres'], hub.as(dev))).stdout.trim();
  expect((await cli(['decide', id, 'approve'], hub.as(sre))).code).toBe(0);
  expect((await cli(['audit', 'verify'], hub.admin)).code).toBe(0);

  const intact = await cli(['audit', 'verify', '--database-url', database.url]);
  expect(intact.code).toBe(0);
  expect(intact.stdout).toContain('audit log intact');

  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    expect((await client.query("update audit_events set actor = 'mallory' where seq = 3")).rowCount).toBe(1);
  } finally {
    await client.end();
  }
  const broken = await cli(['audit', 'verify', '--database-url', database.url]);
  expect(broken.code).toBe(1);
  expect(broken.stdout).toContain('audit log BROKEN at event 3: event 3 was modified after it was written');
});
