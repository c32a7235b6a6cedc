import { CompiledQuery, type Transaction } from 'kysely';
import { sendAhead } from './pipelined-postgres.js';
import type { Database } from './schema.js';

/** PostgreSQL's limit on bound parameters in one statement. */
const POSTGRES_MAX_PARAMETERS = 65_535;

/**
 * Runs writes that need no answer and touch different rows. On PostgreSQL they go as one
 * statement of data-modifying CTEs: one round trip where there were one each, which is what a group
 * commit waits on (every statement is a wake-up of the server and of the hub on a busy machine).
 * PostgreSQL runs the parts of one statement on one snapshot, so no part may read what another
 * writes, and foreign keys are checked at the statement's end: a row may refer to one inserted
 * beside it. SQLite has no data-modifying CTEs; there the writes cost no round trip anyway.
 */
export async function executeTogether(trx: Transaction<Database>, dialect: string, statements: CompiledQuery[], { commitFollows = false } = {}): Promise<void> {
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
  if (batch.length === 0) return;
  const last = combined(batch);
  // Nothing reads before the commit: the last statement goes ahead, and the commit waits for its answer.
  if (commitFollows) (await sendAhead(trx, last)).answer.catch(() => undefined);
  else await trx.executeQuery(last);
}

/**
 * Statements built with Kysely's query builder bind every value, so `$n` in their SQL is a
 * placeholder; a literal one (`sql.lit`, a raw fragment) would be renumbered too. A statement whose
 * `$n` are not exactly `$1`…`$k` for its k parameters is refused rather than mangled (a literal that
 * happens to repeat a placeholder's number cannot be told apart: build combined statements with the
 * query builder).
 */
function checkedPlaceholders(statement: CompiledQuery): void {
  const numbers = new Set([...statement.sql.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));
  const expected = statement.parameters.length;
  if (numbers.size !== expected || [...numbers].some((n) => n < 1 || n > expected)) {
    throw new Error(`cannot combine a statement whose placeholders are not $1…$${expected}: ${statement.sql.slice(0, 80)}`);
  }
}

function combined(statements: CompiledQuery[]): CompiledQuery {
  const [only] = statements;
  if (statements.length === 1 && only) return only;
  const parameters: unknown[] = [];
  const parts = statements.map((statement, index) => {
    checkedPlaceholders(statement);
    const offset = parameters.length;
    parameters.push(...statement.parameters);
    const text = offset === 0 ? statement.sql : statement.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `w${index} as (${text})`;
  });
  return CompiledQuery.raw(`with ${parts.join(', ')} select 1`, parameters);
}
