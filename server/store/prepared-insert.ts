import { CompiledQuery, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

// Keyed by dialect too: the same table and columns compile to different SQL on SQLite and PostgreSQL.
const compiledSql = new Map<string, string>();

/**
 * Inserts one row. Kysely builds and compiles an insert's syntax tree on every call, which on the
 * submission path costs more than SQLite's own work; the SQL depends only on the table and the
 * columns, so Kysely compiles it once per shape and later rows reuse it with their own values.
 */
export async function insertRow<T extends keyof Database & string>(db: Executor, dialect: string, table: T, row: Insertable<Database[T]>): Promise<void> {
  const columns = Object.keys(row).filter((column) => (row as Record<string, unknown>)[column] !== undefined);
  const key = `${dialect}\u0000${table}\u0000${columns.join(',')}`;
  let sql = compiledSql.get(key);
  if (sql === undefined) {
    // The generic table defeats Kysely's row typing; the row's type is checked by this function's signature.
    sql = (db.insertInto(table) as unknown as { values(row: unknown): { compile(): CompiledQuery } }).values(row).compile().sql;
    if (compiledSql.size < 200) compiledSql.set(key, sql);
  }
  await db.executeQuery(CompiledQuery.raw(sql, columns.map((column) => (row as Record<string, unknown>)[column])));
}
