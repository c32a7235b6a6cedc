import DataLoader from 'dataloader';
import type pg from 'pg';

/** The statement @socket.io/postgres-adapter publishes every cross-hub message with. */
const ADAPTER_NOTIFY = 'SELECT pg_notify($1, $2)';
const MAX_PER_STATEMENT = 100;

interface Notification {
  channel: string;
  payload: string;
}

/**
 * The pool handed to the Socket.IO adapter, whose messages arriving together (the pushes of one
 * group commit, say) go to PostgreSQL as one `SELECT pg_notify(…), pg_notify(…)` instead of a round
 * trip each. Listeners still get one notification per message, in the order they were sent (the
 * calls are evaluated left to right, and statements run one at a time); every other query passes
 * through unchanged.
 */
export function batchingNotifications(pool: pg.Pool): pg.Pool {
  // Statements go one after another: on two pool connections a later one could commit first.
  let previous: Promise<unknown> = Promise.resolve();
  const notifications = new DataLoader<Notification, null>(
    async (batch) => {
      const values = batch.flatMap((notification) => [notification.channel, notification.payload]);
      const calls = batch.map((_, index) => `pg_notify($${index * 2 + 1}, $${index * 2 + 2})`);
      const sent = previous.then(() => pool.query(`SELECT ${calls.join(', ')}`, values));
      previous = sent.catch(() => undefined);
      await sent;
      return batch.map(() => null);
    },
    { cache: false, maxBatchSize: MAX_PER_STATEMENT, batchScheduleFn: (callback) => setImmediate(callback) },
  );
  const query = (text: unknown, values?: unknown): Promise<unknown> => {
    if (text === ADAPTER_NOTIFY && Array.isArray(values) && typeof values[0] === 'string' && typeof values[1] === 'string') {
      return notifications.load({ channel: values[0], payload: values[1] });
    }
    return (pool.query as (text: unknown, values?: unknown) => Promise<unknown>)(text, values);
  };
  return new Proxy(pool, {
    get(target, property) {
      if (property === 'query') return query;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
