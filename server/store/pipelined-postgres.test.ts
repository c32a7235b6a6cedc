import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Kysely, sql } from 'kysely';
import { PipelinedPostgresDialect, readAhead, sendAhead } from './pipelined-postgres.js';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';
import { eventually } from '../test-support/eventually.js';

interface Tables {
  items: { id: string; note: string };
}

const availability = await postgresAvailability();
const title = availability.ok ? 'statements sent ahead on PostgreSQL' : `statements sent ahead on PostgreSQL (skipped: ${availability.reason})`;

describe(title, () => {
  let db: Kysely<Tables>;
  let drop: () => Promise<void> = async () => undefined;
  /**
   * Round trips, counted on the connection's socket: a write after the server's last answer was
   * read starts one; writes before any answer comes back share it. pg without pipelining waits for
   * each answer before the next statement goes.
   */
  let roundTrips = 0;
  let url = '';

  beforeAll(async () => {
    if (!availability.ok) return;
    const database = await createTestDatabase();
    drop = database.drop;
    url = database.url;
    // One connection, so a transaction after a failed one reuses its connection.
    const pool = new pg.Pool({ connectionString: database.url, max: 1, pipeline: true });
    pool.on('connect', (client) => {
      const stream = client.connection.stream;
      let answered = true;
      // Ahead of pg's own listener, which may write the next statement as it reads this answer.
      stream.prependListener('data', () => {
        answered = true;
      });
      const target = stream as unknown as { write: (...args: unknown[]) => boolean };
      const write = target.write.bind(stream);
      target.write = (...args: unknown[]) => {
        if (answered) roundTrips += 1;
        answered = false;
        return write(...args);
      };
    });
    db = new Kysely<Tables>({ dialect: new PipelinedPostgresDialect({ pool }) });
    await sql`create table items (id text primary key, note text not null)`.execute(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await drop();
  });
  beforeEach(async () => {
    if (availability.ok) await db.deleteFrom('items').execute();
    roundTrips = 0;
  });

  const stored = async () => (await db.selectFrom('items').select(['id', 'note']).orderBy('id').execute()).map((row) => `${row.id}:${row.note}`);

  it.skipIf(!availability.ok)('a transaction of BEGIN, a lock sent ahead, a read, and writes sent ahead of COMMIT costs two round trips, and every answer arrives', async () => {
    await db.insertInto('items').values({ id: 'a', note: 'first' }).execute();
    roundTrips = 0;
    const seen = await db.transaction().execute(async (trx) => {
      const lock = await sendAhead(trx, trx.selectFrom('items').select('note').where('id', '=', 'a').forUpdate().compile());
      const count = await trx.selectFrom('items').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const write = await sendAhead(trx, trx.insertInto('items').values({ id: 'b', note: 'second' }).compile());
      return { locked: (await lock.answer).rows, count: Number(count.n), write };
    });
    expect(seen.locked).toEqual([{ note: 'first' }]);
    expect(seen.count).toBe(1);
    expect((await seen.write.answer).numAffectedRows).toBe(1n);
    expect(roundTrips).toBe(2);
    expect(await stored()).toEqual(['a:first', 'b:second']);
  });

  it.skipIf(!availability.ok)('reads started together with readAhead share one round trip with BEGIN, and each gets its own rows', async () => {
    await db.insertInto('items').values([{ id: 'a', note: 'first' }, { id: 'b', note: 'second' }]).execute();
    roundTrips = 0;
    const answers = await db.transaction().execute(async (trx) => {
      const byId = (id: string) => readAhead(trx, trx.selectFrom('items').select('note').where('id', '=', id).compile());
      const [a, b, none] = [byId('a'), byId('b'), byId('none')];
      return [await a, await b, await none];
    });
    expect(answers).toEqual([[{ note: 'first' }], [{ note: 'second' }], []]);
    // BEGIN and the three reads, then COMMIT; awaited one by one they would cost four.
    expect(roundTrips).toBe(2);
  });

  it.skipIf(!availability.ok)('a read started with readAhead that fails rejects with its own error, and the transaction keeps nothing', async () => {
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 'f', note: 'kept only if committed' }).execute();
      const broken = readAhead(trx, sql<{ never: number }>`select 1 / 0 as never`.compile(trx));
      const after = readAhead(trx, trx.selectFrom('items').select('note').compile());
      after.catch(() => undefined);
      await broken;
    });
    await expect(attempt).rejects.toMatchObject({ code: '22012' });
    expect(await stored()).toEqual([]);
  });

  it.skipIf(!availability.ok)('a statement behind a lock sent ahead runs once the lock is granted, and sees what its holder committed', async () => {
    await db.insertInto('items').values({ id: 'a', note: 'first' }).execute();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query("select note from items where id = 'a' for update");
      await holder.query("insert into items values ('z', 'committed by the holder of the lock')");
      const counted = db.transaction().execute(async (trx) => {
        const lock = await sendAhead(trx, trx.selectFrom('items').select('note').where('id', '=', 'a').forUpdate().compile());
        const count = await trx.selectFrom('items').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
        await lock.answer;
        return Number(count.n);
      });
      // The transaction's statements have gone and its backend waits on the lock.
      const observer = new pg.Client({ connectionString: url });
      await observer.connect();
      try {
        await eventually(async () => (await observer.query("select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rowCount === 1);
      } finally {
        await observer.end();
      }
      await holder.query('commit');
      expect(await counted).toBe(2);
    } finally {
      await holder.end();
    }
  });

  it.skipIf(!availability.ok)('a value pg cannot send fails the statement before anything goes, and nothing of the transaction is kept', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 'g', note: 'kept only if committed' }).execute();
      await sendAhead(trx, trx.insertInto('items').values({ id: 'h', note: sql`${circular}` }).compile());
    });
    await expect(attempt).rejects.toThrow(/circular/i);
    expect(await stored()).toEqual([]);
  });

  it.skipIf(!availability.ok)('a write sent ahead that fails fails the commit with its own error, and nothing of the transaction is kept', async () => {
    await db.insertInto('items').values({ id: 'a', note: 'first' }).execute();
    const attempt = db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ id: 'c', note: 'kept only if committed' }).execute();
      // The same key again: PostgreSQL refuses it, after the hub has moved on to COMMIT.
      const duplicate = await sendAhead(trx, trx.insertInto('items').values({ id: 'a', note: 'duplicate' }).compile());
      duplicate.answer.catch(() => undefined);
    });
    await expect(attempt).rejects.toMatchObject({ code: '23505' });
    expect(await stored()).toEqual(['a:first']);
    // The connection went back to the pool in a usable state: the next transaction commits.
    await db.transaction().execute((trx) => trx.insertInto('items').values({ id: 'd', note: 'after' }).execute());
    expect(await stored()).toEqual(['a:first', 'd:after']);
  });

  it.skipIf(!availability.ok)('a lock sent ahead that fails fails the statement behind it, which never runs outside the transaction', async () => {
    const attempt = db.transaction().execute(async (trx) => {
      const broken = await sendAhead(trx, sql`select 1 / 0 as never`.compile(trx));
      broken.answer.catch(() => undefined);
      await trx.insertInto('items').values({ id: 'e', note: 'behind a failure' }).execute();
    });
    await expect(attempt).rejects.toMatchObject({ code: '22012' });
    expect(await stored()).toEqual([]);
  });

  it.skipIf(!availability.ok)('a transaction that fails in the hub after sending ahead rolls back what was sent', async () => {
    const attempt = db.transaction().execute(async (trx) => {
      const write = await sendAhead(trx, trx.insertInto('items').values({ id: 'f', note: 'sent, then abandoned' }).compile());
      write.answer.catch(() => undefined);
      throw new Error('a check in the hub failed');
    });
    await expect(attempt).rejects.toThrow('a check in the hub failed');
    expect(await stored()).toEqual([]);
  });
});
