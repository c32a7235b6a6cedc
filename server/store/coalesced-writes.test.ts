import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { coalesceWrites } from './coalesced-writes.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';

const availability = await postgresAvailability();
const title = availability.ok ? 'statements written together on PostgreSQL' : `statements written together on PostgreSQL (skipped: ${availability.reason})`;

describe(title, () => {
  let pool: pg.Pool;
  let drop: () => Promise<void> = async () => undefined;
  /** Writes that reached the connection's socket (each one a system call), counted below the stream's buffering. */
  let socketWrites = 0;

  beforeAll(async () => {
    if (!availability.ok) return;
    const database = await createTestDatabase();
    drop = database.drop;
    pool = new pg.Pool({ connectionString: database.url, max: 1, pipeline: true });
    pool.on('connect', (client) => {
      const socket = client.connection.stream as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
      for (const method of ['_write', '_writev'] as const) {
        const original = socket[method].bind(socket);
        socket[method] = (...args: unknown[]) => {
          socketWrites += 1;
          return original(...args);
        };
      }
      coalesceWrites(client);
    });
    await pool.query('create table items (id integer primary key, note text not null)');
  });
  afterAll(async () => {
    await pool?.end();
    await drop();
  });

  it.runIf(availability.ok)('sends the statements of one pass of the event loop in one write, each answered as its own', async () => {
    const client = await pool.connect();
    try {
      socketWrites = 0;
      const answers = await Promise.all([
        client.query('begin'),
        client.query('insert into items (id, note) values ($1, $2)', [1, 'first']),
        client.query('insert into items (id, note) values ($1, $2)', [2, 'second']),
        client.query('select note from items order by id'),
        client.query('commit'),
      ]);
      expect(socketWrites).toBe(1);
      expect(answers[3]?.rows).toEqual([{ note: 'first' }, { note: 'second' }]);
    } finally {
      client.release();
    }
  });

  it.runIf(availability.ok)('holds no statement back: one sent after an answer goes out on its own, and a failure is still reported', async () => {
    const client = await pool.connect();
    try {
      socketWrites = 0;
      const { rows } = await client.query<{ n: string }>('select count(*) as n from items');
      const again = await client.query<{ n: string }>('select count(*) as n from items where id > $1', [1]);
      expect([rows[0]?.n, again.rows[0]?.n]).toEqual(['2', '1']);
      await expect(client.query('insert into items (id, note) values ($1, $2)', [1, 'duplicate'])).rejects.toThrow(/duplicate key/);
      expect(socketWrites).toBe(3);
    } finally {
      client.release();
    }
  });
});
