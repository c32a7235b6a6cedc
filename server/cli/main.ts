import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { projectVersion } from '../project-root.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerBackupCommand } from './backup-command.js';
import { CliError, EXIT } from './cli-error.js';
import type { CliContext } from './context.js';
import { registerDecideCommands } from './decide-commands.js';
import { registerDemoCommand } from './demo-command.js';
import { registerGrantCommands } from './grant-commands.js';
import { registerHubCommand } from './hub-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerKeysCommand } from './keys-command.js';
import { registerNotifyCommands } from './notify-commands.js';
import { registerPolicyCommands } from './policy-commands.js';
import { registerDelegateCommands } from './delegate-commands.js';
import { note, processIo, type Io } from './output.js';
import { registerReportCommand } from './report-command.js';
import { registerRequestCommand } from './request-command.js';
import { registerTokenCommands } from './token-commands.js';
import { registerUserCommands } from './user-commands.js';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('greenlight')
    .description('Just-in-time action approval: ask, approve, and verify grants from the command line')
    .version(projectVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      // With --json, commander's own complaints are replaced by the JSON error `run` prints.
      writeErr: (text) => void (ctx.json || ctx.io.stderr.write(text)),
      outputError: (text, write) => void (ctx.json || write(text)),
    })
    .addHelpText(
      'after',
      '\nThe hub URL and API token come from --hub/--token or GREENLIGHT_HUB/GREENLIGHT_TOKEN.\n' +
        'Exit status: 0 ok, 1 failed or refused, 2 usage or connection error; request --wait adds 3 denied, 4 expired or cancelled, 5 timed out.',
    );
  registerHubCommand(program, ctx);
  registerUserCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerRequestCommand(program, ctx);
  registerDecideCommands(program, ctx);
  registerGrantCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerReportCommand(program, ctx);
  registerDemoCommand(program, ctx);
  registerBackupCommand(program, ctx);
  registerMigrateCommand(program, ctx);
  registerNotifyCommands(program, ctx);
  registerKeysCommand(program, ctx);
  registerPolicyCommands(program, ctx);
  registerDelegateCommands(program, ctx);
  return program;
}

/** `--json` among the flags (not after `--`); the parsed flags decide once a command runs. */
const asksForJson = (argv: string[]): boolean => {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
};

/** Runs one invocation and returns its exit status; never exits the process itself. */
export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const ctx: CliContext = { io, exitCode: EXIT.ok, json: asksForJson(argv) };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message (unless --json); help and version are successes, everything else is usage.
      const fine = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0;
      if (fine) return EXIT.ok;
      if (ctx.json) writeJsonError(io, new CliError(error.message.replace(/^error: /, ''), { exitCode: EXIT.usage }));
      return EXIT.usage;
    }
    const failure =
      error instanceof CliError ? error : new CliError(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, { exitCode: EXIT.failed });
    if (ctx.json) writeJsonError(io, failure);
    else note(io, failure.describe());
    return failure.exitCode;
  }
}

function writeJsonError(io: Io, error: CliError): void {
  io.stderr.write(`${JSON.stringify(error.toJson())}\n`);
}

/** The process entry: run, then exit with the status even if a library left a handle open. */
export async function main(): Promise<void> {
  const code = await run(process.argv.slice(2));
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) await main();
