import pg from 'pg';
import { CompiledQuery, PostgresDialect, type DatabaseConnection, type Driver, type QueryCompiler, type QueryResult, type Transaction, type TransactionSettings } from 'kysely';

type Executes = { executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> };

/** pg's own conversion of a bound value to what goes on the wire (exported at run time, not in its types). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } }).utils;

/** Queries marked by `sendAhead`, each with where to hand its real answer. */
const aheadOf = new WeakMap<CompiledQuery, (answer: Promise<QueryResult<unknown>>) => void>();

/**
 * Sends a statement without waiting for its answer before the next one goes: the next statement on
 * the connection is written behind it, and PostgreSQL runs them in the order sent. Settles once the
 * statement is sent, with its answer still to come. A transaction's BEGIN, the chain head's lock and
 * its first read so cost one round trip, and its last writes and COMMIT another, where each was one.
 *
 * Kysely lets a transaction's connection run one statement at a time; through the pipelined
 * connection below, the marked statement counts as done once sent. Its failure is not lost: the
 * next statement on the connection (COMMIT at the latest) fails with it. Elsewhere (SQLite, whose
 * statements cost no round trip) the statement simply runs.
 */
export async function sendAhead<R>(trx: Executes, query: CompiledQuery<R>): Promise<{ answer: Promise<QueryResult<R>> }> {
  let handed: Promise<QueryResult<unknown>> | null = null;
  aheadOf.set(query, (answer) => {
    handed = answer;
  });
  try {
    const result = await trx.executeQuery(query);
    return { answer: (handed as Promise<QueryResult<R>> | null) ?? Promise.resolve(result) };
  } finally {
    aheadOf.delete(query);
  }
}

/**
 * A read inside a transaction, sent with `sendAhead`: reads started together (called one after
 * another, then awaited) go out together, one round trip on PostgreSQL where each was one. Only in
 * a transaction, whose connection stays with it until every answer is in.
 */
export async function readAhead<R, DB>(trx: Transaction<DB>, query: CompiledQuery<R>): Promise<R[]> {
  const { answer } = await sendAhead(trx, query);
  return (await answer).rows;
}

const ignore = () => undefined;

/** A pooled connection (pg in pipeline mode) that lets statements go before earlier answers are in. */
class PipelinedConnection implements DatabaseConnection {
  /** Sent, and not yet waited for by anyone: the next statement's answer waits for them too. */
  private unanswered: Promise<unknown>[] = [];

  constructor(readonly inner: DatabaseConnection) {}

  send(query: CompiledQuery): Promise<QueryResult<unknown>> {
    // A value pg cannot convert fails before anything is written, where pg would report it only
    // after the COMMIT behind it had gone out and committed the rest. pg converts them again, to the same.
    const prepared = CompiledQuery.raw(query.sql, query.parameters.map((value) => prepareValue(value)));
    const answer = this.inner.executeQuery<unknown>(prepared);
    answer.catch(ignore);
    this.unanswered.push(answer);
    return answer;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const handAnswer = aheadOf.get(query);
    if (handAnswer) {
      aheadOf.delete(query);
      handAnswer(this.send(query));
      return { rows: [] };
    }
    const earlier = this.unanswered.splice(0);
    const answer = this.inner.executeQuery<R>(query);
    if (earlier.length > 0) {
      answer.catch(ignore);
      // An earlier failure comes first: this statement then ran in an aborted transaction.
      await Promise.all(earlier);
    }
    return answer;
  }

  /** Waits for what was sent, whatever its outcome: before a rollback, or before the pool takes the connection back. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.unanswered.splice(0));
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

function pipelined(connection: DatabaseConnection): PipelinedConnection {
  if (!(connection instanceof PipelinedConnection)) throw new Error('a connection from another driver reached the pipelined PostgreSQL driver');
  return connection;
}

/** Kysely's PostgreSQL driver, with BEGIN sent ahead and statements marked by `sendAhead` pipelined. */
class PipelinedPostgresDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new PipelinedConnection(await this.inner.acquireConnection());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel || settings.accessMode) return this.inner.beginTransaction(connection, settings);
    // Its answer is waited for with the transaction's first statement, sent right behind it.
    pipelined(connection).send(CompiledQuery.raw('begin'));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const own = pipelined(connection);
    await own.settle();
    // The inner connection: a failed rollback marks it to be discarded rather than pooled again.
    return this.inner.rollbackTransaction(own.inner);
  }

  async savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.savepoint?.(connection, name, compileQuery);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.rollbackToSavepoint?.(connection, name, compileQuery);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.releaseSavepoint?.(connection, name, compileQuery);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const own = pipelined(connection);
    await own.settle();
    return this.inner.releaseConnection(own.inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/** Kysely's PostgreSQL dialect over a pool of pg clients in pipeline mode (`pipeline: true`). */
export class PipelinedPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new PipelinedPostgresDriver(super.createDriver());
  }
}
