import { accessSync, constants } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError } from '../config/config-file.js';
import type { OidcSettings } from '../auth/oidc/config.js';
import { CONFIG_ENV, resolveHubSettings, settingsReport, type ResolvedSettings } from '../config/resolve.js';
import { SETTINGS, SETTING_KEYS, type HubSettings } from '../config/settings.js';
import { CliError, EXIT, usageError } from './cli-error.js';
import { action, type CliContext } from './context.js';
import { note, type Io } from './output.js';

/** Turns what startHub throws into the one line an operator needs. */
function startupProblem(error: unknown, flags: HubSettings): string {
  const code = error instanceof Error && 'code' in error ? String((error as { code: unknown }).code) : '';
  if (code === 'EADDRINUSE') return `port ${flags.port} on ${flags.host} is already in use; stop the other process or pick another --port`;
  if (code === 'EACCES' && flags.port < 1024) return `not allowed to listen on port ${flags.port}; pick a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${flags.host}: no such address on this machine`;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** Resolves on the first SIGTERM/SIGINT; a second one while shutting down exits at once. */
export function untilSignal(io: Io): Promise<NodeJS.Signals> {
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

/** Flags, GREENLIGHT_* variables, the config file and defaults, in that order; a bad value is a usage error naming its source. */
function resolveSettings(io: Io, command: Command): ResolvedSettings {
  const opts = command.opts<Record<string, unknown>>();
  const given = Object.fromEntries([...SETTING_KEYS, 'config'].filter((key) => command.getOptionValueSource(key) === 'cli').map((key) => [key, opts[key]]));
  try {
    return resolveHubSettings({ flags: given, env: io.env });
  } catch (error) {
    if (error instanceof ConfigError) throw usageError(error.message);
    throw error;
  }
}

async function runHub(ctx: CliContext, command: Command): Promise<number> {
  const { io } = ctx;
  const resolved = resolveSettings(io, command);
  const flags = resolved.settings;
  if (flags.databaseListenUrl && !flags.databaseUrl) throw usageError('--database-listen-url is for hubs on PostgreSQL: give --database-url too');
  if (flags.policy) {
    try {
      accessSync(flags.policy, constants.R_OK);
    } catch {
      throw usageError(`cannot read the policy file ${flags.policy}`);
    }
  }
  // Loaded on demand so client commands don't pay for the hub's dependencies.
  const [{ startHub }, { createLogger }] = await Promise.all([import('../hub.js'), import('../logger.js')]);
  const log = createLogger(flags.logLevel);
  for (const row of settingsReport(resolved)) log.debug(row, 'setting');
  const oidc = await oidcSettings(io, resolved);
  const signal = untilSignal(io);
  // systemd's ExecReload (and operators) send SIGHUP: re-read the policy rather than die, Node's default.
  let reload = () => note(io, 'SIGHUP: still starting; nothing to reload yet');
  const onHangup = () => reload();
  process.on('SIGHUP', onHangup);
  let hub: Awaited<ReturnType<typeof startHub>>;
  try {
    hub = await startHub({
      port: flags.port,
      host: flags.host,
      dataDir: flags.dataDir,
      databaseUrl: flags.databaseUrl,
      databaseListenUrl: flags.databaseListenUrl,
      policyFile: flags.policy,
      adminToken: io.env.GREENLIGHT_ADMIN_TOKEN || undefined,
      logger: log,
      rateLimitPerMinute: flags.rateLimit,
      trustProxy: flags.trustProxy,
      accessLog: flags.accessLog,
      notifiers: resolved.notifiers,
      publicUrl: flags.publicUrl,
      oidc,
      checkpointKeyFile: flags.checkpointKey,
      retiredCheckpointKeysFile: flags.retiredCheckpointKeys,
      keyEncryptionKeyFile: flags.keyEncryptionKey,
      checkpointLogFile: flags.checkpointLog,
      checkpointLogShared: flags.checkpointLogShared,
      checkpointEveryEvents: flags.checkpointEvery,
      checkpointIntervalMs: flags.checkpointMinutes * 60_000,
      print: (line) => note(io, line),
    });
  } catch (error) {
    process.off('SIGHUP', onHangup);
    throw new CliError(`cannot start the hub: ${startupProblem(error, flags)}`, { exitCode: EXIT.usage });
  }
  const running = hub;
  reload = () => {
    const changed = running.ctx.policy.reload();
    log.info({ file: flags.policy ?? null, changed }, flags.policy ? 'SIGHUP: policy file re-read' : 'SIGHUP: no policy file to re-read');
  };
  note(io, `Greenlight hub listening on ${hub.url}`);
  const received = await signal;
  process.off('SIGHUP', onHangup);
  note(io, `${received}: shutting down`);
  await hub.close();
  return EXIT.ok;
}

export function registerHubCommand(program: Command, ctx: CliContext): void {
  const hub = program
    .command('hub')
    .description('run the hub: HTTP API, Socket.IO, scheduler and web console (pino JSON logs on stdout)')
    .option('--config <file>', `a YAML file of settings (env ${CONFIG_ENV}); flags and GREENLIGHT_* variables override it`);
  for (const key of SETTING_KEYS) {
    const definition = SETTINGS[key];
    const sources = `(env ${definition.env}${definition.defaultHelp ? `, default ${definition.defaultHelp}` : ''})`;
    if (definition.boolean) {
      hub.option(definition.flag, `${definition.help} ${sources}`);
      hub.option(`--no-${definition.flag.slice(2)}`, `turn ${definition.flag} off, whatever the environment or config file say`);
    } else {
      hub.option(`${definition.flag} <${definition.placeholder ?? key}>`, `${definition.help} ${sources}`);
    }
  }
  hub
    .addHelpText(
      'after',
      '\nEach setting comes from its flag, else its GREENLIGHT_* variable, else the --config file, else its default;\n' +
        '--log-level debug logs every setting with where it came from (secrets redacted).\n' +
        "The admin user's token comes from GREENLIGHT_ADMIN_TOKEN on first start; without it one is generated and printed.\n" +
        'SIGHUP re-reads the policy file; SIGTERM and SIGINT shut the hub down cleanly.',
    )
    .action(action(ctx, (cmd) => runHub(ctx, cmd)));
}

/** The config file's `oidc:` section with its client secret read (env:/file:), or undefined without one. */
async function oidcSettings(io: Io, resolved: ResolvedSettings): Promise<OidcSettings | undefined> {
  const section = resolved.oidc;
  if (!section || !resolved.configFile) return undefined;
  const { resolveOidcSettings } = await import('../auth/oidc/config.js');
  try {
    return resolveOidcSettings(section, io.env);
  } catch (error) {
    throw usageError(`config file ${resolved.configFile.path}: ${(error as Error).message}`);
  }
}
