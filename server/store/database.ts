import { closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import type { Logger } from 'pino';
import { redactUrl } from '../redact.js';
import type { Database } from './schema.js';
import { startBackgroundCheckpoint } from './background-checkpoint.js';
import { coalesceWrites } from './coalesced-writes.js';
import { PipelinedPostgresDialect } from './pipelined-postgres.js';
import { MIGRATION_LOCK_TABLE, MIGRATION_TABLE, migrationProvider } from './migrations.js';
import { DatabaseNewerError, migrationStatus } from './migration-status.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, for messages: a file path or a redacted URL. */
  location: string;
  /**
   * SQLite: writes a consistent copy of the live database to `file` with SQLite's online backup,
   * on the hub's own connection, a few pages at a time so requests keep flowing. PostgreSQL has its
   * own tools (pg_dump) and no such method.
   */
  backupTo?(file: string): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  dataDir?: string;
  databaseUrl?: string;
  /** SQLite `synchronous`: NORMAL survives a process crash; FULL also survives power loss. */
  sqliteSync?: 'NORMAL' | 'FULL';
  /** SQLite: checkpoint the write-ahead log from a worker thread, reporting trouble here (a long-running hub sets this); also where PostgreSQL's session settings report trouble. */
  backgroundCheckpoint?: Pick<Logger, 'warn'>;
  /**
   * Bring the schema up to date on open (the default), or leave it as it is (`greenlight migrate
   * status`). Either way a database migrated by a newer hub is refused.
   */
  migrate?: boolean;
  /** PostgreSQL: end a session idle inside a transaction this long (`30s`), set on the database; the hub sets it, tools do not. */
  idleInTransactionTimeout?: string;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const store = options.databaseUrl ? openPostgres(options.databaseUrl) : openSqlite(options);
  try {
    const { unknown } = await migrationStatus(store.db);
    if (unknown.length) throw new DatabaseNewerError(store.location, unknown);
    if (options.migrate !== false) await migrate(store.db);
    if (store.dialect === 'postgres' && options.idleInTransactionTimeout) await endAbandonedTransactions(store.db, options.idleInTransactionTimeout, options.backgroundCheckpoint);
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

/** How long PostgreSQL lets a session sit idle inside a transaction before it ends it. */
export const IDLE_IN_TRANSACTION_TIMEOUT = '30s';

/**
 * Every write takes the audit chain's head first. A hub frozen (paused, stopped, cut off by the
 * network) inside a transaction would hold it, and stop every other hub's writes and deadlines
 * until its connection died, hours later for a partition. The database ends such a session after a
 * while (IDLE_IN_TRANSACTION_TIMEOUT) instead: a default for the hub's own role on this database
 * (any role may set its own), so it holds for every session it opens, through a pooler too, and
 * touches no other application. Said in the hub's log when it cannot be set.
 */
async function endAbandonedTransactions(db: Kysely<Database>, after: string, log?: Pick<Logger, 'warn'>): Promise<void> {
  if (!/^\d+(ms|s|min)$/.test(after)) throw new Error(`idle-in-transaction timeout "${after}" is not a PostgreSQL duration such as 30s`);
  try {
    const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(db);
    // ALTER ROLE takes no parameters: the names are quoted as identifiers, the value checked above.
    await sql`alter role current_user in database ${sql.id(rows[0]?.name ?? '')} set idle_in_transaction_session_timeout = ${sql.lit(after)}`.execute(db);
  } catch (error) {
    log?.warn({ err: error }, `cannot set idle_in_transaction_session_timeout for the hub's database role; set it to ${after} so a frozen hub cannot stall the others`);
  }
}

/**
 * The database holds the grant-signing key, token hashes and issued grants: a new one is readable by
 * the hub's user only, whatever the umask or the data directory's mode (SQLite gives its -wal and
 * -shm files the database's mode). An existing file keeps the mode its operator gave it.
 */
function createPrivately(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (error) {
    // There already: left as it is, so a read-only use (another user verifying the audit log) still opens it.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function openSqlite(options: StoreOptions): Store {
  if (!options.dataDir) throw new Error('a data directory or a database URL is required');
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, 'greenlight.db');
  createPrivately(file);
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.sqliteSync ?? 'NORMAL'}`);
  database.pragma('busy_timeout = 5000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
  const backupTo = async (target: string) => {
    createPrivately(target);
    await database.backup(target);
  };
  if (!options.backgroundCheckpoint) return { db, dialect: 'sqlite', location: file, backupTo, close: () => db.destroy() };
  // The writer checkpoints only if the log passes ~40 MB, a backstop for a stalled worker.
  database.pragma('wal_autocheckpoint = 10000');
  const stopCheckpoint = startBackgroundCheckpoint(file, options.backgroundCheckpoint);
  return {
    db,
    dialect: 'sqlite',
    location: file,
    backupTo,
    close: async () => {
      await stopCheckpoint();
      await db.destroy();
    },
  };
}

/**
 * Kysely prepares every query it runs; preparing costs more than running most of ours. Statements
 * are reused by their SQL text (a bounded set: the queries are built from fixed shapes). One that is
 * still being iterated (a streamed query) is not handed out twice.
 */
function withStatementCache(database: BetterSqlite3.Database, limit = 500): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(text) {
      const cached = statements.get(text);
      if (cached && !cached.busy) return cached;
      const statement = database.prepare(text);
      if (cached) return statement;
      if (statements.size >= limit) statements.delete(statements.keys().next().value ?? '');
      statements.set(text, statement);
      return statement;
    },
    close: () => database.close(),
  };
}

function openPostgres(url: string): Store {
  // Keepalive: a database gone without a word (a partition) is noticed instead of waited on.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000, pipeline: true, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
  // A lost connection must not crash the hub; the query that used it fails and reports it.
  // pg-pool only listens for errors on idle clients, so checked-out ones get a listener too.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
    coalesceWrites(client);
  });
  const db = new Kysely<Database>({ dialect: new PipelinedPostgresDialect({ pool }) });
  return { db, dialect: 'postgres', location: redactUrl(url), close: () => db.destroy() };
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(db: Kysely<Database>): Promise<string[]> {
  // Kysely's PostgreSQL adapter takes an advisory lock, so hubs starting together migrate once.
  const migrator = new Migrator({ db, provider: migrationProvider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: MIGRATION_LOCK_TABLE });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error');
    throw new Error(`database migration${failed ? ` ${failed.migrationName}` : ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
