import DataLoader from 'dataloader';
import type pg from 'pg';
import type { AdapterQueries } from './lost-pushes.js';
import type { InFlight } from './in-flight.js';

/** The statement @socket.io/postgres-adapter publishes every cross-hub message with. */
const ADAPTER_NOTIFY = 'SELECT pg_notify($1, $2)';
const MAX_PER_STATEMENT = 100;

interface Notification {
  channel: string;
  payload: string;
}

/** PostgreSQL refuses a payload of 8000 bytes or more; such a message goes alone, so it fails alone. */
const NOTIFY_PAYLOAD_LIMIT_BYTES = 8000;

/**
 * Splits a batch (by index, in order) into statements. PostgreSQL delivers the same payload on the
 * same channel once per transaction, so a repeat starts a new statement; a payload too long to send
 * goes in one of its own, so its failure fails no other message.
 */
function statementsFor(batch: readonly Notification[]): number[][] {
  const statements: number[][] = [];
  let current: number[] = [];
  // By channel, the payloads in `current`: keyed by the payload string itself, whose hash V8 keeps.
  let seen = new Map<string, Set<string>>();
  const close = () => {
    if (current.length) statements.push(current);
    current = [];
    seen = new Map();
  };
  batch.forEach((notification, index) => {
    if (mayExceedNotifyLimit(notification.payload)) {
      close();
      statements.push([index]);
      return;
    }
    let payloads = seen.get(notification.channel);
    if (payloads?.has(notification.payload)) {
      close();
      payloads = undefined;
    }
    if (!payloads) seen.set(notification.channel, (payloads = new Set()));
    current.push(index);
    payloads.add(notification.payload);
  });
  close();
  return statements;
}

/** A UTF-8 character takes at most 3 bytes per UTF-16 unit, so most payloads need no byte count. */
const mayExceedNotifyLimit = (payload: string): boolean => payload.length * 3 >= NOTIFY_PAYLOAD_LIMIT_BYTES && Buffer.byteLength(payload) >= NOTIFY_PAYLOAD_LIMIT_BYTES;

/**
 * The pool handed to the Socket.IO adapter, whose messages arriving together (the pushes of one
 * group commit, say) go to PostgreSQL as one `SELECT pg_notify(…), pg_notify(…)` instead of a round
 * trip each. Listeners still get one notification per message, in the order they were sent (the
 * calls are evaluated left to right, and statements run one at a time), a repeated message included;
 * every other query passes through unchanged. What becomes of each is told to `outcomes`; each is
 * tracked by `inFlight` until it has been answered.
 */
export function batchingNotifications(pool: pg.Pool, { outcomes, inFlight }: { outcomes?: AdapterQueries; inFlight?: InFlight } = {}): pg.Pool {
  // Statements go one after another: on two pool connections a later one could commit first.
  let previous: Promise<unknown> = Promise.resolve();
  const send = (batch: readonly Notification[]): Promise<unknown> => {
    const values = batch.flatMap((notification) => [notification.channel, notification.payload]);
    const calls = batch.map((_, index) => `pg_notify($${index * 2 + 1}, $${index * 2 + 2})`);
    const sent = previous.then(() => pool.query(`SELECT ${calls.join(', ')}`, values));
    previous = sent.catch(() => undefined);
    return sent;
  };
  const notifications = new DataLoader<Notification, null>(
    async (batch) => {
      const outcomes = await Promise.all(statementsFor(batch).map((statement) => send(statement.map((index) => batch[index]!)).then(() => statement, (error: Error) => ({ statement, error }))));
      const failed = new Map<number, Error>();
      for (const outcome of outcomes) if ('error' in outcome) for (const index of outcome.statement) failed.set(index, outcome.error);
      return batch.map((_, index) => failed.get(index) ?? null);
    },
    { cache: false, maxBatchSize: MAX_PER_STATEMENT, batchScheduleFn: (callback) => setImmediate(callback) },
  );
  const query = (text: unknown, values?: unknown): Promise<unknown> => {
    if (text === ADAPTER_NOTIFY && Array.isArray(values) && typeof values[0] === 'string' && typeof values[1] === 'string') {
      const payload = values[1];
      const loaded = notifications.load({ channel: values[0], payload });
      void inFlight?.track(loaded);
      // Registered before the adapter awaits it, so told before the adapter's error handler runs.
      if (outcomes) loaded.then(() => outcomes.sent(), (error: unknown) => outcomes.notifyFailed(payload, error));
      return loaded;
    }
    const result = (pool.query as (text: unknown, values?: unknown) => Promise<unknown>)(text, values);
    void inFlight?.track(result);
    // Only when someone listens (as tracking it does): a handler here would hide an unhandled failure from the adapter's callers.
    if (outcomes && typeof text === 'string') result.catch((error: unknown) => outcomes.queryFailed(text, error));
    return result;
  };
  return new Proxy(pool, {
    get(target, property) {
      if (property === 'query') return query;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
