import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../config/config-file.js';
import { CONFIG_ENV, resolveHubSettings } from '../config/resolve.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { parseFlags } from './options.js';
import { note, out, printJson } from './output.js';

const migrateFlags = z.object({ json: z.boolean().default(false) });

/** The database the hub would open with the same flags, variables and config file. */
function databaseOf(ctx: CliContext, command: Command): { dataDir: string; databaseUrl: string | undefined } {
  const opts = command.opts<Record<string, unknown>>();
  const flags = Object.fromEntries(['dataDir', 'databaseUrl', 'config'].filter((key) => command.getOptionValueSource(key) === 'cli').map((key) => [key, opts[key]]));
  try {
    const { settings } = resolveHubSettings({ flags, env: ctx.io.env });
    return { dataDir: settings.dataDir, databaseUrl: settings.databaseUrl };
  } catch (error) {
    if (error instanceof ConfigError) throw usageError(error.message);
    throw error;
  }
}

/** Opens the database without migrating it; a database a newer hub migrated is refused (exit 1). */
async function openDatabase(ctx: CliContext, command: Command, options: { mustExist: boolean }) {
  const target = databaseOf(ctx, command);
  if (options.mustExist && !target.databaseUrl && !existsSync(path.join(target.dataDir, 'greenlight.db'))) {
    throw usageError(`no Greenlight database in ${target.dataDir} (expected greenlight.db there); pass --data-dir or --database-url`);
  }
  // Loaded on demand: the database drivers are heavy and only these commands need them.
  const [{ openStore, migrate }, { migrationStatus, DatabaseNewerError }] = await Promise.all([import('../store/database.js'), import('../store/migration-status.js')]);
  try {
    return { store: await openStore({ dataDir: target.dataDir, databaseUrl: target.databaseUrl, migrate: false }), migrationStatus, migrate };
  } catch (error) {
    if (error instanceof DatabaseNewerError) throw new CliError(error.message, { exitCode: EXIT.failed });
    throw usageError(`cannot open the database: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

async function status(ctx: CliContext, command: Command): Promise<number> {
  const { json } = parseFlags(migrateFlags, command.opts());
  const { store, migrationStatus } = await openDatabase(ctx, command, { mustExist: true });
  try {
    const current = await migrationStatus(store.db);
    if (json) printJson(ctx.io, { database: store.location, ...current });
    else {
      for (const name of current.applied) out(ctx.io, `applied  ${name}`);
      for (const name of current.pending) out(ctx.io, `pending  ${name}`);
      note(ctx.io, current.pending.length ? `${store.location}: ${current.pending.length} migration(s) pending; the hub applies them when it starts, or run greenlight migrate up` : `${store.location}: up to date`);
    }
    return current.pending.length ? EXIT.failed : EXIT.ok;
  } finally {
    await store.close();
  }
}

async function up(ctx: CliContext, command: Command): Promise<number> {
  const { json } = parseFlags(migrateFlags, command.opts());
  const { store, migrate } = await openDatabase(ctx, command, { mustExist: false });
  try {
    const applied = await migrate(store.db);
    if (json) printJson(ctx.io, { database: store.location, applied });
    else {
      for (const name of applied) out(ctx.io, `applied  ${name}`);
      note(ctx.io, applied.length ? `${store.location}: applied ${applied.length} migration(s); up to date` : `${store.location}: already up to date`);
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

function databaseOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'the SQLite database in this directory (env GREENLIGHT_DATA_DIR)')
    .option('--database-url <url>', 'this PostgreSQL database (env GREENLIGHT_DATABASE_URL)')
    .option('--config <file>', `the hub's config file, for its dataDir or databaseUrl (env ${CONFIG_ENV})`)
    .option('--json', 'print the outcome as JSON');
}

export function registerMigrateCommand(program: Command, ctx: CliContext): void {
  const migrate = program
    .command('migrate')
    .description("the database schema: the hub migrates it when it starts; these show or apply the migrations without starting one, and refuse a database a newer hub migrated");
  databaseOptions(migrate.command('status').description('list applied and pending migrations: exit 0 up to date, 1 pending or from a newer hub')).action(
    action(ctx, (cmd) => status(ctx, cmd)),
  );
  databaseOptions(migrate.command('up').description('apply every pending migration (what the hub does when it starts)')).action(action(ctx, (cmd) => up(ctx, cmd)));
}
