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
 * the hub hands back the request it already made. A hub that refuses connections (restarting) is
 * tried again the same way; a hub name that does not resolve at the first try is not (a wrong address).
 */
export async function submitOnce(http: Pick<CliHttp, 'call'>, body: NewRequest, options: SubmitOptions): Promise<GreenlightRequest> {
  const keyed = { ...body, idempotencyKey: body.idempotencyKey ?? `cli-${randomUUID()}` };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + options.budgetSeconds * 1000;
  let delay = 500;
  let told = false;
  let maybeSent = false;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const { data } = await http.call('POST', '/api/v1/requests', requestSchema, { body: keyed });
      if (told) note(options.io, 'reconnected to the hub');
      return data;
    } catch (error) {
      if (!isTransient(error)) throw error;
      // A name that does not resolve on the first try is a wrong address, not a hub on its way back: said at once.
      if (error.noSuchHost && attempt === 1) throw error;
      // A connection refused (a hub restarting) sent nothing, so retrying it is as safe as the rest.
      maybeSent ||= !error.neverSent;
      if (now() + delay > deadline) {
        const advice = maybeSent
          ? `the request may have been submitted: run the same command again with --idempotency-key ${keyed.idempotencyKey} to get it back instead of asking twice`
          : 'nothing was submitted';
        throw new CliError(`${error.message}; ${advice}`, { code: error.code, exitCode: EXIT.usage, localCode: error.localCode });
      }
      if (!told) note(options.io, `${error.describe().replace(/^error: /, '')}; retrying`);
      told = true;
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY_MS);
    }
  }
}
