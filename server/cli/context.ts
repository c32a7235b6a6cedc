import type { Command } from 'commander';
import type { z } from 'zod';
import { usageError } from './cli-error.js';
import { flagErrors } from './options.js';
import type { Io } from './output.js';

/** What every command handler shares: where to write, the exit status `run` returns, and whether errors go out as JSON. */
export interface CliContext {
  io: Io;
  exitCode: number;
  /** `--json` was given: errors too are printed as JSON, `{"error":{"code","message"}}`, on stderr. */
  json: boolean;
}

/**
 * Adapts a handler to commander: commander passes the positional arguments, the options and the
 * command last; handlers read what they need from the command and return their exit status.
 */
export function action(ctx: CliContext, handler: (command: Command) => Promise<number>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    // The parsed flags settle it where the command has --json (`--reason --json` is a reason, not the flag).
    if (command.options.some((option) => option.long === '--json')) ctx.json = command.opts().json === true;
    ctx.exitCode = await handler(command);
  };
}

/** The positional argument at `index`, checked with `schema`; commander has already checked it is present. */
export function argument<S extends z.ZodType>(command: Command, index: number, schema: S): z.infer<S> {
  const value: unknown = command.processedArgs[index];
  const result = schema.safeParse(typeof value === 'string' ? value : '', { error: flagErrors });
  if (!result.success) {
    const name = command.registeredArguments[index]?.name() ?? `argument ${index + 1}`;
    throw usageError(`<${name}>: ${result.error.issues[0]?.message ?? 'invalid'}`);
  }
  return result.data;
}
