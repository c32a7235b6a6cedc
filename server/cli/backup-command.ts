import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { exportToFile } from './audit-commands.js';
import { CliError, EXIT } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { ADMIN_ONLY, addHubOptions, connect, parseFlags } from './options.js';
import { note } from './output.js';

const backupFlags = z.object({ hub: z.string().optional(), token: z.string().optional(), to: z.string().min(1, 'name the file to write') });

const SQLITE_HEADER = 'SQLite format 3\0';

/** The first bytes of every SQLite database; anything else means the download is not one. */
async function isSqliteFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(16), 0, 16, 0);
    return bytesRead === 16 && buffer.toString('latin1') === SQLITE_HEADER;
  } finally {
    await handle.close();
  }
}

async function backup(ctx: CliContext, command: Command): Promise<number> {
  const { hub, token, to } = parseFlags(backupFlags, command.opts());
  const target = path.resolve(to);
  const http = connect(ctx.io, { hub, token }, ADMIN_ONLY);
  const response = await http.stream('/api/v1/admin/backup', {}, 'POST');
  if (!response.body) throw new CliError(`the hub at ${http.baseUrl} sent an empty backup`, { exitCode: EXIT.failed });
  const bytes = await exportToFile(response.body, target);
  if (!(await isSqliteFile(target))) throw new CliError(`${target} is not an SQLite database; the hub's answer was not a backup`, { exitCode: EXIT.failed });
  note(ctx.io, `wrote a consistent copy of the hub's database to ${target} (${bytes} bytes); it holds the signing key and token hashes, so keep it as a secret`);
  if (path.basename(target) === 'greenlight.db') note(ctx.io, `check it with: greenlight audit verify --data-dir ${path.dirname(target)}`);
  return EXIT.ok;
}

export function registerBackupCommand(program: Command, ctx: CliContext): void {
  addHubOptions(
    program
      .command('backup')
      .description("copy a running hub's SQLite database to a file, consistently, while it keeps serving (admin token); PostgreSQL hubs: use pg_dump")
      .requiredOption('--to <file>', 'where to write the copy; name it greenlight.db to start a hub on it or verify it with audit verify --data-dir')
      .addHelpText('after', '\nRestore: stop the hub, put the copy in its data directory as greenlight.db (remove any greenlight.db-wal and -shm there), start it.'),
  ).action(action(ctx, (cmd) => backup(ctx, cmd)));
}
