import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { MIGRATION_NAMES, migrationProvider } from '../store/migrations.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';
import { cli, CliHub } from './cli-harness.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const pg = await postgresAvailability();
const scratch = mkdtempSync(path.join(os.tmpdir(), 'greenlight-backup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const submit = (hub: CliHub, token: string, reason: string) =>
  cli(['request', '--action', 'deploy', '--resource', 'payments-api', '--env', 'staging', '--reason', reason], hub.as(token));

describe('greenlight backup', () => {
  const hub = new CliHub();
  let dev = '';
  beforeAll(async () => {
    await hub.start();
    dev = await hub.addUser('dev', ['requester']);
    for (let i = 0; i < 5; i++) expect((await submit(hub, dev, `before the backup ${i}`)).code).toBe(0);
  });
  afterAll(() => hub.dispose());

  it('copies the running database while requests keep arriving, and the copy verifies on its own', async () => {
    const copyDir = path.join(scratch, 'copy');
    mkdirSync(copyDir);
    const target = path.join(copyDir, 'greenlight.db');
    const [backup, ...during] = await Promise.all([
      cli(['backup', '--to', target], hub.admin),
      ...Array.from({ length: 5 }, (_, i) => submit(hub, dev, `during the backup ${i}`)),
    ]);
    expect(during.map((result) => result.code)).toEqual([0, 0, 0, 0, 0]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toBe('');
    expect(backup.stderr).toContain(`wrote a consistent copy of the hub's database to ${target}`);
    expect(backup.stderr).toContain(`check it with: greenlight audit verify --data-dir ${copyDir}`);

    const verified = await cli(['audit', 'verify', '--data-dir', copyDir]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^audit log intact: \d+ events, every hash matches$/m);

    const copy = new BetterSqlite3(target, { readonly: true });
    try {
      const types = copy.prepare('select type, actor from audit_events order by seq').all() as { type: string; actor: string }[];
      // The backup is audited before the copy is taken; submissions arriving meanwhile may land after it.
      expect(types).toContainEqual({ type: 'backup.created', actor: 'admin' });
      const before = copy.prepare("select count(*) as n from requests where reason like 'before the backup%'").get() as { n: number };
      expect(before.n).toBe(5);
    } finally {
      copy.close();
    }
    // The hub's temporary copy is gone once sent.
    expect(readdirSync(hub.dataDir).filter((name) => name.startsWith('.backup-'))).toEqual([]);
  });

  it('is for admins only', async () => {
    const result = await cli(['backup', '--to', path.join(scratch, 'nope.db')], hub.as(dev));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: Only an admin can do this. (FORBIDDEN)');
    expect(existsSync(path.join(scratch, 'nope.db'))).toBe(false);
  });
});

describe('greenlight migrate, and a hub refusing a newer database', () => {
  const hub = new CliHub();
  beforeAll(async () => {
    await hub.start();
    await hub.stop();
  });
  afterAll(() => hub.dispose());

  const dbFile = () => path.join(hub.dataDir, 'greenlight.db');
  const edit = (statement: string) => {
    const db = new BetterSqlite3(dbFile());
    try {
      db.prepare(statement).run();
    } finally {
      db.close();
    }
  };

  it('reports an up-to-date database, and the migrations a database lacks, then applies them', async () => {
    const current = await cli(['migrate', 'status', '--data-dir', hub.dataDir]);
    expect(current.code).toBe(0);
    expect(current.stdout.trim().split('\n')).toEqual(MIGRATION_NAMES.map((name) => `applied  ${name}`));
    expect(current.stderr.trim()).toBe(`${dbFile()}: up to date`);

    // A database an older hub left behind: every migration but the latest applied.
    const latest = MIGRATION_NAMES.at(-1) ?? '';
    const behindDir = path.join(scratch, 'behind');
    mkdirSync(behindDir);
    const behindFile = path.join(behindDir, 'greenlight.db');
    const older = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new BetterSqlite3(behindFile) }) });
    const migrated = await new Migrator({ db: older, provider: migrationProvider, migrationTableName: 'greenlight_migrations', migrationLockTableName: 'greenlight_migrations_lock' }).migrateTo(MIGRATION_NAMES.at(-2) ?? '');
    await older.destroy();
    expect(migrated.error).toBeUndefined();
    const behind = await cli(['migrate', 'status', '--json'], { GREENLIGHT_DATA_DIR: behindDir });
    expect(behind.code).toBe(1);
    expect(JSON.parse(behind.stdout)).toEqual({ database: behindFile, applied: MIGRATION_NAMES.slice(0, -1), pending: [latest], unknown: [] });

    const upgraded = await cli(['migrate', 'up', '--data-dir', behindDir]);
    expect(upgraded.code).toBe(0);
    expect(upgraded.stdout.trim()).toBe(`applied  ${latest}`);
    expect((await cli(['migrate', 'status', '--data-dir', behindDir])).code).toBe(0);
    expect((await cli(['migrate', 'up', '--data-dir', behindDir])).stderr.trim()).toBe(`${behindFile}: already up to date`);
  });

  it('says when there is no database to look at, and creates one on up', async () => {
    const empty = path.join(scratch, 'empty');
    const missing = await cli(['migrate', 'status', '--data-dir', empty]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`error: no Greenlight database in ${empty} (expected greenlight.db there); pass --data-dir or --database-url`);
    const created = await cli(['migrate', 'up', '--data-dir', empty, '--json']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ database: path.join(empty, 'greenlight.db'), applied: [...MIGRATION_NAMES] });
  });

  it('refuses to start a hub, or migrate, on a database a newer hub migrated, saying so and exiting non-zero', async () => {
    edit("insert into greenlight_migrations (name, timestamp) values ('2099-01-01-001-from-a-newer-hub', '2099-01-01T00:00:00.000Z')");
    const expected = `the database ${dbFile()} was migrated by a newer version of Greenlight (migration this version does not know: 2099-01-01-001-from-a-newer-hub); run that version or a newer one, or restore a backup taken before the upgrade`;

    const started = await cli(['hub', '--port', '0', '--data-dir', hub.dataDir, '--log-level', 'silent'], { GREENLIGHT_ADMIN_TOKEN: hub.adminToken });
    expect(started.code).toBe(2);
    expect(started.stderr.trim()).toBe(`error: cannot start the hub: ${expected}`);

    for (const words of [['status'], ['up']]) {
      const result = await cli(['migrate', ...words, '--data-dir', hub.dataDir]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`error: ${expected}`);
    }
    edit("delete from greenlight_migrations where name = '2099-01-01-001-from-a-newer-hub'");
    expect((await cli(['migrate', 'status', '--data-dir', hub.dataDir])).code).toBe(0);
  });

  it.skipIf(!pg.ok)(`works on PostgreSQL through --database-url${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, async () => {
    const database = await createTestDatabase();
    try {
      expect((await cli(['migrate', 'status', '--database-url', database.url])).code).toBe(1);
      expect((await cli(['migrate', 'up', '--database-url', database.url])).stdout.trim().split('\n')).toEqual(MIGRATION_NAMES.map((name) => `applied  ${name}`));
      expect((await cli(['migrate', 'status'], { GREENLIGHT_DATABASE_URL: database.url })).code).toBe(0);
    } finally {
      await database.drop();
    }
  });
});
