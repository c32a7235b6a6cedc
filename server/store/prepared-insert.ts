import { CompiledQuery, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

interface Shape {
  columns: string[];
  sql: string;
}

// By table, then by dialect: the same table and columns compile to different SQL on SQLite and PostgreSQL.
const shapes = new Map<string, Shape[]>();

const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((column, index) => column === b[index]);

/**
 * Inserts one row. Kysely builds and compiles an insert's syntax tree on every call, which on the
 * submission path costs more than SQLite's own work; the SQL depends only on the table and the
 * columns, so Kysely compiles it once per shape and later rows reuse it with their own values.
 */
export async function insertRow<T extends keyof Database & string>(db: Executor, dialect: string, table: T, row: Insertable<Database[T]>): Promise<void> {
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const [column, value] of Object.entries(row)) {
    if (value === undefined) continue;
    columns.push(column);
    values.push(value);
  }
  const key = `${dialect}:${table}`;
  let known = shapes.get(key);
  if (!known) {
    known = [];
    shapes.set(key, known);
  }
  let shape = known.find((candidate) => sameColumns(candidate.columns, columns));
  if (!shape) {
    // The generic table defeats Kysely's row typing; the row's type is checked by this function's signature.
    const sql = (db.insertInto(table) as unknown as { values(row: unknown): { compile(): CompiledQuery } }).values(row).compile().sql;
    shape = { columns, sql };
    if (known.length < 20) known.push(shape);
  }
  await db.executeQuery(CompiledQuery.raw(shape.sql, values));
}
