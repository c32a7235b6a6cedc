import { randomUUID } from 'node:crypto';
import { requestSchema, type GreenlightRequest, type NewRequest } from '../../protocol/index.js';
import { CliError, EXIT } from './cli-error.js';
import type { CliHttp } from './http.js';
import { note, type Io } from './output.js';
import { isTransient } from './wait.js';

const MAX_RETRY_DELAY_MS = 5_000;

export interface SubmitOptions {
  io: Io;
  /** How long to keep trying while the hub is unreachable or busy. */
  budgetSeconds: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Submits once, as far as the hub is concerned: the body carries an idempotency key (the caller's,
 * or one made for this run), so an answer lost on the way back is retried without asking twice, and
 * the hub hands back the request it already made.
 */
export async function submitOnce(http: Pick<CliHttp, 'call'>, body: NewRequest, options: SubmitOptions): Promise<GreenlightRequest> {
  const keyed = { ...body, idempotencyKey: body.idempotencyKey ?? `cli-${randomUUID()}` };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.budgetSeconds * 1000;
  let delay = 500;
  let told = false;
  for (;;) {
    try {
      const { data } = await http.call('POST', '/api/v1/requests', requestSchema, { body: keyed });
      if (told) note(options.io, 'reconnected to the hub');
      return data;
    } catch (error) {
      // A connection never made sent nothing: said at once, as any unreachable hub is.
      if (!isTransient(error) || error.neverSent) throw error;
      if (now() + delay > deadline) {
        throw new CliError(
          `${error.message}; the request may have been submitted: run the same command again with --idempotency-key ${keyed.idempotencyKey} to get it back instead of asking twice`,
          { code: error.code, exitCode: EXIT.usage, localCode: error.localCode },
        );
      }
      if (!told) note(options.io, `${error.describe().replace(/^error: /, '')}; retrying`);
      told = true;
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
