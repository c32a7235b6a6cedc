import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../store/schema.js';
import type { TestHub } from './hub-fixture.js';

/** A second connection to the hub's database, as an operator editing it by hand (or an older hub) would have; it works while the hub is stopped. */
export function rawDatabase(hub: TestHub): Kysely<Database> {
  if (hub.database === 'sqlite') return new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(path.join(hub.dataDir, 'greenlight.db')) }) });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: hub.databaseUrl, max: 1 }) }) });
}
