import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchingNotifications } from './batched-notify.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';
import { eventually } from '../test-support/eventually.js';

const available = await postgresAvailability();

describe.skipIf(!available.ok)(`cross-hub notifications sent together${available.ok ? '' : ` (skipped: ${available.reason})`}`, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let listener: pg.Client;
  const statements: string[] = [];
  const received: { channel: string; payload: string }[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    pool.on('connect', (client) => {
      const original = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        if (typeof args[0] === 'string') statements.push(args[0]);
        return original(...args);
      };
    });
    listener = new pg.Client({ connectionString: database.url });
    await listener.connect();
    listener.on('notification', (message) => received.push({ channel: message.channel, payload: message.payload ?? '' }));
    await listener.query('LISTEN "hub#/"');
    await listener.query('LISTEN "hub#/admin"');
  });
  afterAll(async () => {
    await listener?.end();
    await pool?.end();
    await database?.drop();
  });

  it('delivers every message of a burst, in the order sent, on its own channel, in a few statements; other queries pass through', async () => {
    const batching = batchingNotifications(pool);
    const sent = Array.from({ length: 150 }, (_, index) => ({ channel: index % 10 === 0 ? 'hub#/admin' : 'hub#/', payload: JSON.stringify({ index, text: `message ${index}` }) }));

    await Promise.all(sent.map((message) => batching.query('SELECT pg_notify($1, $2)', [message.channel, message.payload])));
    expect((await batching.query<{ answer: number }>('select 42 as answer')).rows).toEqual([{ answer: 42 }]);

    await eventually(() => received.length === sent.length, { what: 'all 150 notifications', deadline: 5_000 });
    expect(received).toEqual(sent);
    const notifyStatements = statements.filter((text) => text.includes('pg_notify'));
    expect(notifyStatements.length).toBeLessThanOrEqual(2);
  });

  it('sends a repeated message twice, and a message too long to send fails alone while the rest of its burst arrives', async () => {
    const batching = batchingNotifications(pool);
    const before = received.length;
    const burst = ['first', 'repeated', 'repeated', 'x'.repeat(9_000), 'last'];
    const outcomes = await Promise.allSettled(burst.map((payload) => batching.query('SELECT pg_notify($1, $2)', ['hub#/', payload])));

    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(outcomes[3]?.status === 'rejected' && String(outcomes[3].reason)).toMatch(/payload string too long/);
    await eventually(() => received.length >= before + 4, { what: 'the four notifications that could be sent', deadline: 5_000 });
    expect(received.slice(before).map((message) => message.payload)).toEqual(['first', 'repeated', 'repeated', 'last']);
  });
});
