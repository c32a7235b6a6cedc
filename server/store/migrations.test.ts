import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from './database.js';
import { MIGRATION_NAMES, migrationProvider } from './migrations.js';
import { DatabaseNewerError, migrationStatus } from './migration-status.js';
import type { BreakGlassReviewsTable, Database, RequestsTable, TokensTable, UsersTable } from './schema.js';
import { breakGlassReviewStore } from './break-glass-reviews.js';
import { requestStore, whoDecidedRecord } from './requests.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';

const pgAvailable = await postgresAvailability();

/** A request row as the first release stored it (later columns take their defaults). */
const row = (id: string, requesterId: string, idempotencyKey: string | null): Omit<RequestsTable, 'escalation_round' | 'not_before' | 'extends_jti' | 'submitted_with_token' | 'decided_for'> => ({
  id,
  requester_id: requesterId,
  requester_name: requesterId,
  action: 'deploy',
  resource: 'payments-api',
  environment: 'production',
  reason: 'test',
  risk: 'low',
  context: '{}',
  requested_ttl_seconds: null,
  idempotency_key: idempotencyKey,
  status: 'pending',
  version: 1,
  rule: '{"name":"prod"}',
  eligible_groups: '[]',
  eligible_users: '[]',
  escalation_level: 0,
  next_escalation_at: null,
  expires_at: null,
  claim_by: null,
  claim_until: null,
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
  decided_at: null,
  decided_by: null,
});

/** A pending request row as a release of December 2026 stored it (`decided_for`, null while pending, came later). */
const current = (id: string, requesterId: string, idempotencyKey: string | null): Omit<RequestsTable, 'decided_for'> => ({ ...row(id, requesterId, idempotencyKey), escalation_round: 0, not_before: null, extends_jti: null, submitted_with_token: null });

/** A page of one type's events after a seq, in seq order: verify's scan of submissions, issues and delegations. */
const eventsOfType = sql`select seq, data from audit_events where type = ${'grant.issued'} and seq > ${0} and seq <= ${1_000_000} order by seq limit 500`;

interface Target {
  /** A Kysely on an empty database, for migrating step by step. */
  raw(): Kysely<Database>;
  open(): Promise<Store>;
  /** How the database would find a requester's idempotency key. */
  planOfKeyLookup(db: Kysely<Database>): Promise<string>;
  /** How the database would page through the events of one type, as `audit verify` does. */
  planOfEventsOfType(db: Kysely<Database>): Promise<string>;
  /** The CREATE INDEX statement the database holds for an index. */
  indexDefinition(db: Kysely<Database>, name: string): Promise<string>;
  dispose(): Promise<void>;
}

function sqliteTarget(): Target {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-migrations-'));
  const file = path.join(dir, 'greenlight.db');
  return {
    raw: () => new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) }),
    open: () => openStore({ dataDir: dir }),
    planOfKeyLookup: async (db) => {
      const plan = await sql<{ detail: string }>`explain query plan select id from requests where requester_id = ${'usr_a'} and idempotency_key = ${'k'}`.execute(db);
      return plan.rows.map((step) => step.detail).join('\n');
    },
    planOfEventsOfType: async (db) => {
      const plan = await sql<{ detail: string }>`explain query plan ${eventsOfType}`.execute(db);
      return plan.rows.map((step) => step.detail).join('\n');
    },
    indexDefinition: async (db, name) => (await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and name = ${name}`.execute(db)).rows[0]?.sql ?? '',
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresTarget(): Promise<Target> {
  const database = await createTestDatabase();
  const pools: pg.Pool[] = [];
  return {
    raw: () => {
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      pools.push(pool);
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    },
    open: () => openStore({ databaseUrl: database.url }),
    planOfKeyLookup: async (db) =>
      // A tiny table is cheaper to scan; forbid the scan to see which index the planner can use.
      db.connection().execute(async (connection) => {
        await sql`set enable_seqscan = off`.execute(connection);
        const plan = await sql<{ 'QUERY PLAN': string }>`explain select id from requests where requester_id = ${'usr_a'} and idempotency_key = ${'k'}`.execute(connection);
        return plan.rows.map((step) => step['QUERY PLAN']).join('\n');
      }),
    planOfEventsOfType: async (db) =>
      db.connection().execute(async (connection) => {
        await sql`set enable_seqscan = off`.execute(connection);
        const plan = await sql<{ 'QUERY PLAN': string }>`explain ${eventsOfType}`.execute(connection);
        return plan.rows.map((step) => step['QUERY PLAN']).join('\n');
      }),
    indexDefinition: async (db, name) => (await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = ${name}`.execute(db)).rows[0]?.indexdef ?? '',
    dispose: async () => {
      await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
      await database.drop();
    },
  };
}

/**
 * A database as a release left it (its last migration `lastApplied`), given what that release would
 * have stored by `seed`, then opened by this hub, and so upgraded.
 */
async function upgradedFrom<Before = Database>(target: Target, lastApplied: string, seed: (before: Kysely<Before>) => Promise<void>): Promise<Store> {
  const before = target.raw() as unknown as Kysely<Before>;
  const migrated = await new Migrator({ db: before, provider: migrationProvider, migrationTableName: 'greenlight_migrations', migrationLockTableName: 'greenlight_migrations_lock' }).migrateTo(lastApplied);
  if (migrated.error) throw migrated.error;
  await seed(before);
  await before.destroy();
  return target.open();
}

describe.each(['sqlite', 'postgres'] as const)('migrations on %s', (kind) => {
  const skip = kind === 'postgres' && !pgAvailable.ok;
  let target: Target;
  let store: Store;

  beforeAll(async () => {
    if (skip) return;
    target = kind === 'sqlite' ? sqliteTarget() : await postgresTarget();
    // A database as the first release left it, with requests in it, then upgraded by a hub starting.
    // Typed as the first release's schema: its requests had no later columns.
    type FirstRelease = Omit<Database, 'requests' | 'users' | 'tokens'> & {
      requests: Omit<RequestsTable, 'escalation_round' | 'not_before' | 'extends_jti'>;
      users: Omit<UsersTable, 'service' | 'slack_user_id' | 'oidc_subject'>;
      tokens: Pick<TokensTable, 'hash' | 'user_id' | 'created_at'>;
    };
    store = await upgradedFrom<FirstRelease>(target, '2026-11-24-001-initial', async (before) => {
      await before
        .insertInto('users')
        .values(['usr_a', 'usr_b'].map((id) => ({ id, name: id, roles: '["requester"]', disabled: 0, created_at: '2026-12-01T00:00:00.000Z' })))
        .execute();
      await before.insertInto('requests').values([row('req_1', 'usr_a', 'pipeline-1'), row('req_2', 'usr_a', null)]).execute();
      await before.insertInto('tokens').values({ hash: 'a'.repeat(64), user_id: 'usr_a', created_at: '2026-12-01T00:00:00.000Z' }).execute();
    });
  });
  afterAll(async () => {
    if (skip) return;
    await store.close();
    await target.dispose();
  });

  it.skipIf(skip)('keeps refusing a second request with a key its requester already used, rows from before the upgrade included', async () => {
    await expect(store.db.insertInto('requests').values(current('req_3', 'usr_a', 'pipeline-1')).execute()).rejects.toThrow(/unique|UNIQUE/);
    await store.db.insertInto('requests').values(current('req_4', 'usr_b', 'pipeline-1')).execute();
    const keys = await store.db.selectFrom('requests').select(['id', 'idempotency_key']).orderBy('id').execute();
    expect(keys).toEqual([
      { id: 'req_1', idempotency_key: 'pipeline-1' },
      { id: 'req_2', idempotency_key: null },
      { id: 'req_4', idempotency_key: 'pipeline-1' },
    ]);
  });

  it.skipIf(skip)('counts the requests pending at the upgrade per requester and rule, so the pending cap includes them', async () => {
    const counts = await store.db.selectFrom('pending_counts').selectAll().execute();
    expect(counts).toEqual([{ requester_id: 'usr_a', rule_name: 'prod', pending: 2 }]);
  });

  it.skipIf(skip)('lets one requester submit any number of requests without a key', async () => {
    await store.db.insertInto('requests').values([current('req_5', 'usr_a', null), current('req_6', 'usr_a', null)]).execute();
    const unkeyed = await store.db.selectFrom('requests').select('id').where('requester_id', '=', 'usr_a').where('idempotency_key', 'is', null).orderBy('id').execute();
    expect(unkeyed.map((r) => r.id)).toEqual(['req_2', 'req_5', 'req_6']);
  });

  it.skipIf(skip)('finds a key through the idempotency index, which leaves out requests without a key', async () => {
    expect(await target.planOfKeyLookup(store.db)).toContain('requests_idempotency');
    expect(await target.indexDefinition(store.db, 'requests_idempotency')).toMatch(/where\s*\(?"?idempotency_key"?\s+is\s+not\s+null/i);
  });

  it.skipIf(skip)('pages through the events of one type through an index, in seq order, without reading the rest of the log', async () => {
    const plan = await target.planOfEventsOfType(store.db);
    expect(plan).toContain('audit_by_type');
    // An index in seq order within a type: a page is the next 500 entries, not all of them sorted.
    expect(plan).not.toMatch(/TEMP B-TREE|Sort/);
  });

  it.skipIf(skip)('starts requests from before the upgrade in the first run of their escalation chain, and gives them an empty outbox', async () => {
    const rounds = await store.db.selectFrom('requests').select(['id', 'escalation_round']).where('id', 'in', ['req_1', 'req_2']).orderBy('id').execute();
    expect(rounds.map((r) => Number(r.escalation_round))).toEqual([0, 0]);
    expect(await store.db.selectFrom('outbox').selectAll().execute()).toEqual([]);
  });

  it.skipIf(skip)('gives users from before the upgrade no email and no last-seen time, and stores both afterwards', async () => {
    const read = () => store.db.selectFrom('users').select(['id', 'email', 'last_seen_at']).orderBy('id').execute();
    expect(await read()).toEqual([
      { id: 'usr_a', email: null, last_seen_at: null },
      { id: 'usr_b', email: null, last_seen_at: null },
    ]);
    await store.db.updateTable('users').set({ email: 'a@example.com', last_seen_at: '2026-12-10T09:00:00.000Z' }).where('id', '=', 'usr_a').execute();
    expect((await read())[0]).toEqual({ id: 'usr_a', email: 'a@example.com', last_seen_at: '2026-12-10T09:00:00.000Z' });
  });

  it.skipIf(skip)('keeps tokens from before the upgrade working as they did: an id, kind user, every scope of the role, no expiry', async () => {
    const tokens = await store.db.selectFrom('tokens').select(['id', 'name', 'kind', 'scopes', 'expires_at', 'last_used_at']).execute();
    expect(tokens).toEqual([{ id: `tok_${'a'.repeat(24)}`, name: 'initial', kind: 'user', scopes: null, expires_at: null, last_used_at: null }]);
    const users = await store.db.selectFrom('users').select(['id', 'service']).orderBy('id').execute();
    expect(users.map((user) => Number(user.service))).toEqual([0, 0]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('break-glass reviews closed before the upgrade that records for whom, on %s', (kind) => {
  const skip = kind === 'postgres' && !pgAvailable.ok;
  let target: Target;
  let store: Store;

  beforeAll(async () => {
    if (skip) return;
    target = kind === 'sqlite' ? sqliteTarget() : await postgresTarget();
    // A database as the release before left it: reviews knew who closed them, not for whom.
    store = await upgradedFrom(target, '2026-12-16-101-exclusive-claims', async (before: Kysely<Omit<Database, 'break_glass_reviews'> & { break_glass_reviews: Omit<BreakGlassReviewsTable, 'reviewed_for'> }>) => {
      await before.insertInto('users').values({ id: 'usr_a', name: 'usr_a', roles: '["requester"]', disabled: 0, service: 0, created_at: '2026-12-01T00:00:00.000Z' }).execute();
      await before.insertInto('requests').values([current('req_1', 'usr_a', null), current('req_2', 'usr_a', null), current('req_3', 'usr_a', null)]).execute();
      const review = { requester_id: 'usr_a', rule_name: 'prod', incident: 'INC-1', reviewers: '["security"]', created_at: '2026-12-01T00:00:00.000Z', due_at: '2026-12-02T00:00:00.000Z' };
      await before
        .insertInto('break_glass_reviews')
        .values([
          { ...review, request_id: 'req_1', outcome: 'ratified', reviewed_by: 'sam', comment: 'checked', reviewed_at: '2026-12-01T01:00:00.000Z' },
          { ...review, request_id: 'req_2', outcome: null, reviewed_by: null, comment: null, reviewed_at: null },
          { ...review, request_id: 'req_3', outcome: 'ratified', reviewed_by: 'dana', comment: 'checked for sue', reviewed_at: '2026-12-01T02:00:00.000Z' },
        ])
        .execute();
      // What the audit log said of the two closed reviews: sam's as himself, dana's for sue.
      const event = (seq: number, requestId: string, data: Record<string, unknown>) => ({ seq, at: '2026-12-01T01:00:00.000Z', actor: String(data.by), type: 'request.reviewed', request_id: requestId, action: 'deploy', resource: 'api', environment: 'production', outcome: 'ratified', data: JSON.stringify(data), prev_hash: '0', hash: String(seq) });
      await before.insertInto('audit_events').values([event(901, 'req_1', { by: 'sam', outcome: 'ratified' }), event(902, 'req_3', { by: 'dana', outcome: 'ratified', onBehalfOf: 'sue' })]).execute();
    });
  });
  afterAll(async () => {
    if (skip) return;
    await store.close();
    await target.dispose();
  });

  it.skipIf(skip)('reads a review closed before the upgrade as closed by whoever closed it, for nobody else', async () => {
    expect(await breakGlassReviewStore.ofRequest(store.db, 'req_1')).toMatchObject({ outcome: 'ratified', reviewedBy: 'sam', reviewedFor: null });
  });

  it.skipIf(skip)('reads a review a delegate closed before the upgrade as for whom its audit event says', async () => {
    expect(await breakGlassReviewStore.ofRequest(store.db, 'req_3')).toMatchObject({ outcome: 'ratified', reviewedBy: 'dana', reviewedFor: 'sue' });
  });

  it.skipIf(skip)('closes a review open at the upgrade naming the reviewer a delegate reviewed for', async () => {
    await breakGlassReviewStore.close(store.db, 'req_2', { outcome: 'unratified', reviewedBy: 'dana', reviewedFor: 'sue', comment: 'no incident', reviewedAt: '2026-12-02T01:00:00.000Z' });
    expect(await breakGlassReviewStore.ofRequest(store.db, 'req_2')).toMatchObject({ outcome: 'unratified', reviewedBy: 'dana', reviewedFor: 'sue' });
  });
});

describe.each(['sqlite', 'postgres'] as const)('requests decided before the upgrade that records for whom, on %s', (kind) => {
  const skip = kind === 'postgres' && !pgAvailable.ok;
  let target: Target;
  let store: Store;

  beforeAll(async () => {
    if (skip) return;
    target = kind === 'sqlite' ? sqliteTarget() : await postgresTarget();
    // A database as the release before left it: requests knew who decided them, not for whom.
    store = await upgradedFrom(target, '2026-12-17-101-break-glass-reviewed-for', async (before) => {
      await before.insertInto('users').values({ id: 'usr_a', name: 'usr_a', roles: '["requester"]', disabled: 0, service: 0, created_at: '2026-12-01T00:00:00.000Z' }).execute();
      const decided = { ...current('req_1', 'usr_a', null), status: 'approved', version: 2, decided_at: '2026-12-01T00:10:00.000Z', decided_by: 'carol' };
      const byDelegate = { ...current('req_3', 'usr_a', null), status: 'approved', version: 2, decided_at: '2026-12-01T00:20:00.000Z', decided_by: 'dana' };
      await before.insertInto('requests').values([decided, current('req_2', 'usr_a', null), byDelegate]).execute();
      const vote = { decision: 'approve', comment: null, lines: null };
      await before
        .insertInto('decisions')
        .values([
          { ...vote, request_id: 'req_1', approver_id: 'usr_carol', approver_name: 'carol', created_at: '2026-12-01T00:10:00.000Z', delegate_id: null, delegate_name: null },
          { ...vote, request_id: 'req_3', approver_id: 'usr_sue', approver_name: 'sue', created_at: '2026-12-01T00:20:00.000Z', delegate_id: 'usr_dana', delegate_name: 'dana' },
        ])
        .execute();
    });
  });
  afterAll(async () => {
    if (skip) return;
    await store.close();
    await target.dispose();
  });

  it.skipIf(skip)('reads a request decided before the upgrade as decided by whoever decided it, for nobody else', async () => {
    const decided = await requestStore.existing(store.db, 'req_1');
    expect({ decided_by: decided.decided_by, decided_for: decided.decided_for }).toEqual({ decided_by: 'carol', decided_for: null });
    expect(whoDecidedRecord(decided)).toBe('carol');
  });

  it.skipIf(skip)('reads a request a delegate decided before the upgrade as for whom the deciding vote was cast', async () => {
    expect(whoDecidedRecord(await requestStore.existing(store.db, 'req_3'))).toBe('dana for sue');
  });

  it.skipIf(skip)('decides a request pending at the upgrade naming the approver a delegate decided for', async () => {
    const pending = await requestStore.existing(store.db, 'req_2');
    await store.db.transaction().execute((trx) => requestStore.updateVersioned(trx, pending, { status: 'denied', decided_at: '2026-12-02T00:00:00.000Z', decided_by: 'dana', decided_for: 'sue' }, 2));
    expect(whoDecidedRecord(await requestStore.existing(store.db, 'req_2'))).toBe('dana for sue');
  });
});

describe.each(['sqlite', 'postgres'] as const)('schema versions on %s', (kind) => {
  const skip = kind === 'postgres' && !pgAvailable.ok;
  let target: Target;

  beforeAll(async () => {
    if (skip) return;
    target = kind === 'sqlite' ? sqliteTarget() : await postgresTarget();
  });
  afterAll(async () => {
    if (!skip) await target.dispose();
  });

  it.skipIf(skip)('reports a database no hub has opened as every migration pending, and none once opened', async () => {
    const before = target.raw();
    expect(await migrationStatus(before)).toEqual({ applied: [], pending: [...MIGRATION_NAMES], unknown: [] });
    await before.destroy();
    const store = await target.open();
    expect(await migrationStatus(store.db)).toEqual({ applied: [...MIGRATION_NAMES], pending: [], unknown: [] });
    await store.close();
  });

  it.skipIf(skip)('refuses a database a newer hub migrated, naming the migrations it does not know, and leaves it untouched', async () => {
    const db = target.raw();
    await sql`insert into greenlight_migrations (name, timestamp) values ('2099-01-01-001-from-a-newer-hub', '2099-01-01T00:00:00.000Z')`.execute(db);
    await db.destroy();
    const refused = await target.open().then(
      (store) => store.close().then(() => null),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DatabaseNewerError);
    expect((refused as Error).message).toMatch(/^the database .+ was migrated by a newer version of Greenlight \(migration this version does not know: 2099-01-01-001-from-a-newer-hub\); run that version or a newer one, or restore a backup taken before the upgrade$/);
    const after = target.raw();
    expect((await migrationStatus(after)).unknown).toEqual(['2099-01-01-001-from-a-newer-hub']);
    await after.destroy();
  });
});

describe.each(['sqlite', 'postgres'] as const)('delegations from before their ends were deadlines, on %s', (kind) => {
  const skip = kind === 'postgres' && !pgAvailable.ok;
  let target: Target;
  let store: Store;

  const delegation = (id: string, toName: string, endsAt: string, endedAt: string | null = null) => ({
    id,
    from_id: 'usr_sam',
    from_name: 'sam',
    to_id: `usr_${toName}`,
    to_name: toName,
    starts_at: '2026-12-01T00:00:00.000Z',
    ends_at: endsAt,
    rules: null,
    reason: 'on leave',
    created_by: 'sam',
    created_at: '2026-12-01T00:00:00.000Z',
    ended_at: endedAt,
    ended_by: endedAt ? 'sam' : null,
  });

  beforeAll(async () => {
    if (skip) return;
    target = kind === 'sqlite' ? sqliteTarget() : await postgresTarget();
    store = await upgradedFrom(target, '2026-12-16-101-exclusive-claims', async (before) => {
      await before
        .insertInto('delegations')
        .values([
          delegation('dlg_ahead', 'erin', '2099-01-01T00:00:00.000Z'),
          delegation('dlg_over_claimed', 'dana', '2026-12-02T00:00:00.000Z'),
          delegation('dlg_over_idle', 'erin', '2026-12-02T00:00:00.000Z'),
          delegation('dlg_ended_early', 'dana', '2099-01-01T00:00:00.000Z', '2026-12-01T12:00:00.000Z'),
        ])
        .execute();
      await before.insertInto('users').values({ id: 'usr_a', name: 'alice', roles: '["requester"]', service: 0, disabled: 0, created_at: '2026-12-01T00:00:00.000Z' }).execute();
      await before.insertInto('requests').values({ ...current('req_1', 'usr_a', null), claim_by: 'dana', claim_until: '2026-12-02T01:00:00.000Z' }).execute();
    });
  });
  afterAll(async () => {
    if (skip) return;
    await store.close();
    await target.dispose();
  });

  it.skipIf(skip)('get one at their end where it may still release a claim: not over yet, or over while their delegate holds one', async () => {
    const ends = await store.db.selectFrom('deadlines').select(['delegation_id', 'due_at', 'done']).where('kind', '=', 'delegation_end').orderBy('delegation_id').execute();
    expect(ends.map((row) => ({ ...row, done: Number(row.done) }))).toEqual([
      { delegation_id: 'dlg_ahead', due_at: '2099-01-01T00:00:00.000Z', done: 0 },
      { delegation_id: 'dlg_over_claimed', due_at: '2026-12-02T00:00:00.000Z', done: 0 },
    ]);
  });
});
