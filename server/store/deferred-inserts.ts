import type { CompiledQuery, Insertable, Transaction } from 'kysely';
import type { Database } from './schema.js';
import { insertStatements } from './prepared-insert.js';
import { executeTogether } from './execute-together.js';

type Table = keyof Database & string;

interface Deferred {
  dialect: string;
  rows: Map<Table, Insertable<Database[Table]>[]>;
}

const deferred = new WeakMap<Transaction<Database>, Deferred>();

/**
 * Queues a row to be inserted later in the same transaction, together with the others of its table:
 * a group commit's submissions then write each table in one multi-row statement (one round trip on
 * PostgreSQL) instead of one each. Whoever reads the table inside the transaction first calls
 * `writeDeferred`; `inTransaction` writes whatever is left before commit.
 */
export function deferInsert<T extends Table>(trx: Transaction<Database>, dialect: string, table: T, row: Insertable<Database[T]>): void {
  let entry = deferred.get(trx);
  if (!entry) deferred.set(trx, (entry = { dialect, rows: new Map() }));
  const rows = entry.rows.get(table) ?? [];
  rows.push(row as Insertable<Database[Table]>);
  entry.rows.set(table, rows);
}

/** Takes the statements inserting the rows queued in this transaction (of one table, or of all); they are then no longer queued. */
export function takeDeferredInserts(trx: Transaction<Database>, table?: Table): CompiledQuery[] {
  const entry = deferred.get(trx);
  if (!entry) return [];
  const statements: CompiledQuery[] = [];
  for (const [name, rows] of entry.rows) {
    if (table !== undefined && name !== table) continue;
    entry.rows.delete(name);
    statements.push(...insertStatements(trx, entry.dialect, name, rows));
  }
  return statements;
}

/** Inserts the rows queued in this transaction (of one table, or of all). */
export async function writeDeferred(trx: Transaction<Database>, table?: Table): Promise<void> {
  const entry = deferred.get(trx);
  if (!entry) return;
  await executeTogether(trx, entry.dialect, takeDeferredInserts(trx, table));
}
