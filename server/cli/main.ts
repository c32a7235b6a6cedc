import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { z } from 'zod';
import { registerAuditCommands } from './audit-commands.js';
import { CliError, EXIT } from './cli-error.js';
import type { CliContext } from './context.js';
import { registerDecideCommands } from './decide-commands.js';
import { registerGrantCommands } from './grant-commands.js';
import { registerHubCommand } from './hub-command.js';
import { registerNotifyCommands } from './notify-commands.js';
import { processIo, type Io } from './output.js';
import { registerRequestCommand } from './request-command.js';
import { registerUserCommands } from './user-commands.js';

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed = z.object({ version: z.string() }).safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('greenlight')
    .description('Just-in-time action approval: ask, approve, and verify grants from the command line')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
    })
    .addHelpText(
      'after',
      '\nThe hub URL and API token come from --hub/--token or GREENLIGHT_HUB/GREENLIGHT_TOKEN.\n' +
        'Exit status: 0 ok, 1 failed or refused, 2 usage or connection error; request --wait adds 3 denied, 4 expired or cancelled, 5 timed out.',
    );
  registerHubCommand(program, ctx);
  registerUserCommands(program, ctx);
  registerRequestCommand(program, ctx);
  registerDecideCommands(program, ctx);
  registerGrantCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerNotifyCommands(program, ctx);
  return program;
}

/** Runs one invocation and returns its exit status; never exits the process itself. */
export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const ctx: CliContext = { io, exitCode: EXIT.ok };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message; help and version are successes, everything else is usage.
      const fine = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0;
      return fine ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr.write(`${error.describe()}\n`);
      return error.exitCode;
    }
    io.stderr.write(`error: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
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
