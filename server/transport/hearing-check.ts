import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactUrl } from '../redact.js';
import { withTimeout } from '../with-timeout.js';

const HEARING_TIMEOUT_MS = 3_000;

/**
 * Hubs hear each other through LISTEN, which needs a session of its own. Through a pooler in
 * transaction mode (PgBouncer's `pool_mode = transaction`) the LISTEN is accepted, and what is
 * notified then goes to whichever client holds that server connection next, or nowhere: the hub
 * would run while its clients missed every other hub's pushes. So before it joins the others, a
 * hub checks that it hears a notification it sends itself from another connection.
 */
export async function checkHearsNotifications(databaseUrl: string): Promise<void> {
  const channel = `greenlight_hearing_${randomBytes(6).toString('hex')}`;
  const listener = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  const sender = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  // A connection that fails after connecting emits 'error'; unhandled, that would end the process.
  listener.on('error', () => undefined);
  sender.on('error', () => undefined);
  try {
    await Promise.all([listener.connect(), sender.connect()]).catch((error: unknown) => {
      throw new Error(`cannot reach PostgreSQL at ${redactUrl(databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const heard = new Promise<void>((resolve) => {
      listener.on('notification', (message) => {
        if (message.channel === channel) resolve();
      });
    });
    await listener.query(`LISTEN ${channel}`);
    await sender.query('SELECT pg_notify($1, $2)', [channel, 'can this hub hear the others?']);
    await withTimeout(heard, HEARING_TIMEOUT_MS, 'the notification').catch(() => {
      throw new Error(
        `PostgreSQL at ${redactUrl(databaseUrl)} accepted a LISTEN but delivered nothing to it within ${HEARING_TIMEOUT_MS / 1000} s, ` +
          'so hubs would not hear each other: a pooler in transaction mode is in the way. ' +
          'Give --database-listen-url a URL that reaches PostgreSQL directly or through a session-mode pool.',
      );
    });
  } finally {
    await Promise.all([listener.end().catch(() => undefined), sender.end().catch(() => undefined)]);
  }
}
