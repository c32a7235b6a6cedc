import type { Command } from 'commander';
import type { z } from 'zod';
import { usageError } from './cli-error.js';
import type { Io } from './output.js';

/** What every command handler shares: where to write, and the exit status `run` returns. */
export interface CliContext {
  io: Io;
  exitCode: number;
}

/**
 * Adapts a handler to commander: commander passes the positional arguments, the options and the
 * command last; handlers read what they need from the command and return their exit status.
 */
export function action(ctx: CliContext, handler: (command: Command) => Promise<number>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    ctx.exitCode = await handler(command);
  };
}

/** The positional argument at `index`, checked with `schema`; commander has already checked it is present. */
export function argument<S extends z.ZodType>(command: Command, index: number, schema: S): z.infer<S> {
  const value: unknown = command.processedArgs[index];
  const result = schema.safeParse(typeof value === 'string' ? value : '');
  if (!result.success) {
    const name = command.registeredArguments[index]?.name() ?? `argument ${index + 1}`;
    throw usageError(`<${name}>: ${result.error.issues[0]?.message ?? 'invalid'}`);
  }
  return result.data;
}
