import type { Command } from 'commander';
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

/** The positional argument at `index`; commander has already checked that required ones are present. */
export function argument(command: Command, index: number): string {
  const value: unknown = command.processedArgs[index];
  return typeof value === 'string' ? value : '';
}
