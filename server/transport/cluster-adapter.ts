import pg from 'pg';
import { createAdapter } from '@socket.io/postgres-adapter';
import type { Server } from 'socket.io';
import type { Logger } from 'pino';

const WATCH_EVERY_MS = 5_000;

/**
 * Cross-hub Socket.IO events through PostgreSQL (LISTEN/NOTIFY; payloads over NOTIFY's 8000-byte
 * limit go through the adapter's attachment table). The adapter re-listens when its connection
 * ends, but it neither handles the connection's `error` event (which would crash the process on a
 * PostgreSQL restart) nor notices a connection that silently died: both are handled here, by
 * watching long-held clients with a periodic query and ending the ones that fail.
 */
export async function attachClusterAdapter(io: Server, databaseUrl: string, log: Logger): Promise<() => Promise<void>> {
  const held = new Map<pg.PoolClient, number>();
  class WatchedPool extends pg.Pool {
    override connect(): Promise<pg.PoolClient>;
    override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): void;
    override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void): Promise<pg.PoolClient> | void {
      if (callback) return super.connect(callback);
      return super.connect().then((client) => {
        if (!held.has(client)) {
          client.on('error', (error) => log.warn({ err: error }, 'event connection to PostgreSQL failed; reconnecting'));
          const release = client.release.bind(client);
          client.release = (destroy?: boolean | Error) => {
            held.delete(client);
            return release(destroy);
          };
        }
        held.set(client, Date.now());
        return client;
      });
    }
  }
  const pool = new WatchedPool({ connectionString: databaseUrl, max: 4 });
  pool.on('error', (error) => log.warn({ err: error }, 'idle PostgreSQL event connection failed'));
  try {
    await pool.query(`create table if not exists socket_io_attachments (
      id bigserial unique,
      created_at timestamptz default now(),
      payload bytea
    )`);
  } catch (error) {
    // Two hubs starting together race on "if not exists"; the loser finds the table made.
    const code = (error as { code?: string }).code;
    if (code !== '23505' && code !== '42P07') throw error;
  }
  io.adapter(createAdapter(pool, { errorHandler: (error: Error) => log.warn({ err: error }, 'cross-hub event failed') }));

  const watchdog = setInterval(() => {
    for (const [client, since] of held) {
      if (Date.now() - since < WATCH_EVERY_MS) continue;
      const timeout = setTimeout(() => void client.end(), 3_000);
      client.query('select 1').then(
        () => clearTimeout(timeout),
        () => {
          clearTimeout(timeout);
          // Ending it makes the adapter connect and LISTEN again.
          void client.end().catch(() => undefined);
        },
      );
    }
  }, WATCH_EVERY_MS);
  watchdog.unref();

  return async () => {
    clearInterval(watchdog);
    await pool.end().catch(() => undefined);
  };
}
