import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_NAMES } from './store/migrations.js';
import { TestHub } from './test-support/hub-fixture.js';

type Readiness = { status: string; checks: Record<string, string>; error?: { code: string; message: string } };

describe('/readyz on SQLite', () => {
  const hub = new TestHub();
  beforeAll(() => hub.start());
  afterAll(() => hub.dispose());

  it('is ready once started: database, migrations and scheduler all ok', async () => {
    expect(await hub.api<Readiness>('GET', '/readyz', null)).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', scheduler: 'ok', auditCheckpoints: 'ok' } } });
  });

  it('says the schema is behind when a migration is missing from the database, and ready when it is back', async () => {
    const db = hub.hub.ctx.store.db;
    const latest = MIGRATION_NAMES[MIGRATION_NAMES.length - 1] ?? '';
    const { rows } = await sql<{ name: string; timestamp: string }>`select name, timestamp from greenlight_migrations where name = ${latest}`.execute(db);
    await sql`delete from greenlight_migrations where name = ${latest}`.execute(db);
    const behind = await hub.api<Readiness>('GET', '/readyz', null);
    expect(behind.status).toBe(503);
    expect(behind.body.checks).toEqual({ database: 'ok', migrations: 'failing', scheduler: 'ok', auditCheckpoints: 'ok' });
    expect(behind.body.error?.message).toBe(`The database schema is behind this hub: ${latest} not applied yet.`);
    await sql`insert into greenlight_migrations (name, timestamp) values (${latest}, ${rows[0]?.timestamp ?? ''})`.execute(db);
    expect((await hub.api('GET', '/readyz', null)).status).toBe(200);
  });

  it('says the database is newer when it holds a migration this hub does not know', async () => {
    const db = hub.hub.ctx.store.db;
    await sql`insert into greenlight_migrations (name, timestamp) values ('2099-01-01-999-from-the-future', '2099-01-01T00:00:00.000Z')`.execute(db);
    const newer = await hub.api<Readiness>('GET', '/readyz', null);
    expect(newer.status).toBe(503);
    expect(newer.body.error?.message).toContain('migrated by a newer hub (2099-01-01-999-from-the-future)');
    await sql`delete from greenlight_migrations where name = '2099-01-01-999-from-the-future'`.execute(db);
    expect((await hub.api('GET', '/readyz', null)).status).toBe(200);
  });

  it('says the scheduler is not running while the hub stops', async () => {
    await hub.hub.scheduler.stop();
    const stopping = await hub.api<Readiness>('GET', '/readyz', null);
    expect(stopping.status).toBe(503);
    expect(stopping.body.checks.scheduler).toBe('failing');
    expect(stopping.body.error?.message).toMatch(/^The scheduler is not running/);
    await hub.hub.scheduler.start();
    expect((await hub.api('GET', '/readyz', null)).status).toBe(200);
  });
});
