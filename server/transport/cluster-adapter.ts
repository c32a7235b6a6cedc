import pg from 'pg';
import { createAdapter } from '@socket.io/postgres-adapter';
import type { Server } from 'socket.io';
import type { Logger } from 'pino';
import { batchingNotifications } from './batched-notify.js';

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
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 5_000 });
  pool.on('connect', (client) => {
    client.on('error', (error) => log.warn({ err: error }, 'event connection to PostgreSQL failed; reconnecting'));
    // The adapter drops a connection that ended without releasing it; release it here, or the
    // pool would count it as in use forever (and never finish closing).
    client.on('end', () => {
      if (held.has(client)) (client as pg.PoolClient).release(true);
    });
  });
  pool.on('acquire', (client) => held.set(client, Date.now()));
  pool.on('release', (_error, client) => held.delete(client));
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
  io.adapter(createAdapter(batchingNotifications(pool), { errorHandler: (error: Error) => log.warn({ err: error }, 'cross-hub event failed') }));

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
    await Promise.race([pool.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
  };
}
