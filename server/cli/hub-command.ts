import { accessSync, constants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { CliError, EXIT, usageError } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { parseFlags } from './options.js';
import { note, type Io } from './output.js';
import type { NotifiersConfig } from '../notify/config.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const hubFlags = z.object({
  port: z.string().regex(/^\d{1,5}$/, 'expected a port number, 0 to 65535').transform(Number).pipe(z.number().max(65_535, 'expected a port number, 0 to 65535')),
  host: z.string().min(1),
  dataDir: z.string().min(1),
  policy: z.string().min(1).optional(),
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
  logLevel: z.enum(LOG_LEVELS).optional(),
  rateLimit: z.string().regex(/^[1-9]\d*$/, 'expected a positive whole number').transform(Number).optional(),
  trustProxy: z.boolean().optional(),
});

/** `$XDG_DATA_HOME/greenlight`, falling back to `~/.local/share/greenlight` as the XDG spec does. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'greenlight');
}

/** Turns what startHub throws into the one line an operator needs. */
function startupProblem(error: unknown, flags: z.infer<typeof hubFlags>): string {
  const code = error instanceof Error && 'code' in error ? String((error as { code: unknown }).code) : '';
  if (code === 'EADDRINUSE') return `port ${flags.port} on ${flags.host} is already in use; stop the other process or pick another --port`;
  if (code === 'EACCES' && flags.port < 1024) return `not allowed to listen on port ${flags.port}; pick a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${flags.host}: no such address on this machine`;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** Resolves on the first SIGTERM/SIGINT; a second one while shutting down exits at once. */
function untilSignal(io: Io): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGINT', () => {
        note(io, 'second interrupt: exiting without a clean shutdown');
        process.exit(130);
      });
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

async function runHub(ctx: CliContext, command: Command): Promise<number> {
  const { io } = ctx;
  const opts = command.opts();
  const flags = parseFlags(hubFlags, {
    ...opts,
    dataDir: opts.dataDir ?? (io.env.GREENLIGHT_DATA_DIR || defaultDataDir(io.env)),
    databaseUrl: opts.databaseUrl ?? (io.env.GREENLIGHT_DATABASE_URL || undefined),
    logLevel: opts.logLevel ?? (io.env.GREENLIGHT_LOG_LEVEL || undefined),
  });
  if (flags.policy) {
    try {
      accessSync(flags.policy, constants.R_OK);
    } catch {
      throw usageError(`cannot read the policy file ${flags.policy}`);
    }
  }
  // Loaded on demand so client commands don't pay for the hub's dependencies.
  const { startHub } = await import('../hub.js');
  // Webhook endpoints and secrets, until the hub configuration file (--config) carries the same keys.
  let notify: { publicUrl?: string; notifiers?: NotifiersConfig } = {};
  if (io.env.GREENLIGHT_NOTIFIERS_FILE) {
    const { readNotifiersFile } = await import('../notify/notifiers-file.js');
    try {
      notify = readNotifiersFile(io.env.GREENLIGHT_NOTIFIERS_FILE);
    } catch (error) {
      throw usageError(`GREENLIGHT_NOTIFIERS_FILE: ${(error as Error).message}`);
    }
  }
  const signal = untilSignal(io);
  let hub: Awaited<ReturnType<typeof startHub>>;
  try {
    hub = await startHub({
      port: flags.port,
      host: flags.host,
      dataDir: flags.dataDir,
      databaseUrl: flags.databaseUrl,
      policyFile: flags.policy,
      adminToken: io.env.GREENLIGHT_ADMIN_TOKEN || undefined,
      logLevel: flags.logLevel,
      rateLimitPerMinute: flags.rateLimit,
      trustProxy: flags.trustProxy,
      notifiers: notify.notifiers,
      publicUrl: notify.publicUrl,
      print: (line) => note(io, line),
    });
  } catch (error) {
    throw new CliError(`cannot start the hub: ${startupProblem(error, flags)}`, { exitCode: EXIT.usage });
  }
  note(io, `Greenlight hub listening on ${hub.url}`);
  const received = await signal;
  note(io, `${received}: shutting down`);
  await hub.close();
  return EXIT.ok;
}

export function registerHubCommand(program: Command, ctx: CliContext): void {
  program
    .command('hub')
    .description('run the hub: HTTP API, Socket.IO, scheduler and web console (pino JSON logs on stdout)')
    .option('--port <port>', 'port to listen on; 0 picks a free one', '7300')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where the SQLite database and keys live (env GREENLIGHT_DATA_DIR, default $XDG_DATA_HOME/greenlight)')
    .option('--policy <file>', 'the policy YAML file; reloaded when it changes')
    .option('--database-url <url>', 'use PostgreSQL instead of SQLite (env GREENLIGHT_DATABASE_URL)')
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')} (env GREENLIGHT_LOG_LEVEL, default info)`)
    .option('--rate-limit <n>', 'HTTP requests per minute per client')
    .option('--trust-proxy', 'behind a load balancer that sets X-Forwarded-For: take client addresses (rate limits, audit) from it')
    .addHelpText('after', '\nThe admin user\'s token comes from GREENLIGHT_ADMIN_TOKEN on first start; without it one is generated and printed.')
    .action(action(ctx, (cmd) => runHub(ctx, cmd)));
}
