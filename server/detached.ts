import type { Logger } from 'pino';

const isPromiseLike = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

/**
 * Runs work nobody waits for: a timer's or `setImmediate`'s callback, or a promise left to settle on
 * its own. What it throws, or rejects with, reaches no caller there: an uncaught exception or an
 * unhandled rejection, either of which ends the hub process. Here it is logged, with `what` was being
 * done and `context` (the event type, say), and the hub carries on.
 */
export function detached(log: Pick<Logger, 'error'>, what: string, work: () => unknown, context: Record<string, unknown> = {}): void {
  const failed = (error: unknown) => log.error({ err: error, ...context }, `${what} failed; the hub carries on`);
  try {
    const result = work();
    if (isPromiseLike(result)) result.then(undefined, failed);
  } catch (error) {
    failed(error);
  }
}
