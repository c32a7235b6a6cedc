import { CompiledQuery, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/** PostgreSQL's limit on bound parameters in one statement. */
const POSTGRES_MAX_PARAMETERS = 65_535;

/**
 * Runs writes that need no answer and touch different rows, in order. On PostgreSQL they go as one
 * statement of data-modifying CTEs: one round trip where there were one each, which is what a group
 * commit waits on (every statement is a wake-up of the server and of the hub on a busy machine).
 * PostgreSQL runs the parts of one statement on one snapshot, so no part may read what another
 * writes, and foreign keys are checked at the statement's end: a row may refer to one inserted
 * beside it. SQLite has no data-modifying CTEs; there the writes cost no round trip anyway.
 */
export async function executeTogether(trx: Transaction<Database>, dialect: string, statements: CompiledQuery[]): Promise<void> {
  if (dialect !== 'postgres') {
    for (const statement of statements) await trx.executeQuery(statement);
    return;
  }
  let batch: CompiledQuery[] = [];
  let parameters = 0;
  for (const statement of statements) {
    if (batch.length > 0 && parameters + statement.parameters.length > POSTGRES_MAX_PARAMETERS) {
      await trx.executeQuery(combined(batch));
      batch = [];
      parameters = 0;
    }
    batch.push(statement);
    parameters += statement.parameters.length;
  }
  if (batch.length > 0) await trx.executeQuery(combined(batch));
}

function combined(statements: CompiledQuery[]): CompiledQuery {
  const [only] = statements;
  if (statements.length === 1 && only) return only;
  const parameters: unknown[] = [];
  const parts = statements.map((statement, index) => {
    const offset = parameters.length;
    parameters.push(...statement.parameters);
    // Kysely binds every value as a parameter, so `$n` in its SQL is always a placeholder.
    const text = offset === 0 ? statement.sql : statement.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `w${index} as (${text})`;
  });
  return CompiledQuery.raw(`with ${parts.join(', ')} select 1`, parameters);
}
