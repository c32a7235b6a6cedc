import { randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { GreenlightError } from '../../protocol/index.js';
import type { Actor } from './actor.js';
import { audit, inTransaction, type Context } from './context.js';
import { requireAdmin } from './users.js';

export interface Backup {
  /** A temporary file beside the database; the caller sends it and then calls `discard`. */
  file: string;
  bytes: number;
  discard(): Promise<void>;
}

/**
 * A consistent copy of a running hub's SQLite database, for an admin. The copy holds everything,
 * the grant-signing key and token hashes included, so taking one is audited — before the copy is
 * made, so the copy's own audit chain records it and verifies.
 */
export async function createBackup(ctx: Context, actor: Actor): Promise<Backup> {
  requireAdmin(actor);
  const { store } = ctx;
  if (!store.backupTo) {
    throw new GreenlightError('INVALID_INPUT', 'This hub keeps its data in PostgreSQL: back that up with pg_dump (or your provider\'s snapshots), not through the hub.');
  }
  await inTransaction(ctx, (trx) => audit(ctx, trx, { actor: actor.name, type: 'backup.created', outcome: 'created', data: { database: store.dialect } }));
  const file = path.join(path.dirname(store.location), `.backup-${randomBytes(6).toString('hex')}.db`);
  const discard = () => rm(file, { force: true });
  try {
    await store.backupTo(file);
    return { file, bytes: (await stat(file)).size, discard };
  } catch (error) {
    await discard();
    throw error;
  }
}
