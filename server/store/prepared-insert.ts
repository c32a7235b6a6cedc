import { CompiledQuery, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { insertBatches } from './insert-batches.js';

type Executor = Kysely<Database> | Transaction<Database>;

interface Shape {
  columns: string[];
  sql: string;
}

// By table, then by dialect: the same table and columns compile to different SQL on SQLite and PostgreSQL.
const shapes = new Map<string, Shape[]>();

const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((column, index) => column === b[index]);

/**
 * The statement inserting one row. Kysely builds and compiles an insert's syntax tree on every call,
 * which on the submission path costs more than SQLite's own work; the SQL depends only on the table
 * and the columns, so Kysely compiles it once per shape and later rows reuse it with their own values.
 */
function insertOne<T extends keyof Database & string>(db: Executor, dialect: string, table: T, row: Insertable<Database[T]>): CompiledQuery {
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
  return CompiledQuery.raw(shape.sql, values);
}

export async function insertRow<T extends keyof Database & string>(db: Executor, dialect: string, table: T, row: Insertable<Database[T]>): Promise<void> {
  await db.executeQuery(insertOne(db, dialect, table, row));
}

/**
 * The statements inserting rows that share their columns, as few as the parameter limit allows: one
 * round trip for many rows on PostgreSQL, one statement instead of many on SQLite.
 */
export function insertStatements<T extends keyof Database & string>(db: Executor, dialect: string, table: T, rows: Insertable<Database[T]>[]): CompiledQuery[] {
  const [first] = rows;
  if (!first) return [];
  if (rows.length === 1) return [insertOne(db, dialect, table, first)];
  const columns = Object.keys(first).filter((column) => (first as Record<string, unknown>)[column] !== undefined);
  const head = `insert into "${table}" (${columns.map((column) => `"${column}"`).join(', ')}) values `;
  const statements: CompiledQuery[] = [];
  for (const chunk of insertBatches(rows)) {
    const values: unknown[] = [];
    const tuples = chunk.map((row) => {
      const placeholders = columns.map((column) => {
        values.push((row as Record<string, unknown>)[column] ?? null);
        return dialect === 'postgres' ? `$${values.length}` : '?';
      });
      return `(${placeholders.join(', ')})`;
    });
    statements.push(CompiledQuery.raw(head + tuples.join(', '), values));
  }
  return statements;
}
