import { randomUUID } from 'node:crypto';
import { verifyResultSchema, type VerifyResult } from '../../protocol/index.js';
import { CliError } from './cli-error.js';
import type { CliHttp } from './http.js';
import { note, type Io } from './output.js';
import { isTransient } from './wait.js';

const ATTEMPTS = 5;

/** A hub from before redemption keys refuses the field by name, having used nothing. */
const olderHub = (error: unknown): boolean => error instanceof CliError && error.code === 'INVALID_INPUT' && /Unrecognized key: "redemptionKey"/.test(error.message);

export interface RedeemOptions {
  io: Io;
  /** The caller's key for this use of the grant (to retry a run whose answer was lost); one is made otherwise. */
  redemptionKey?: string;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Redeems once, as far as the hub is concerned: the body carries a redemption key, so when the hub
 * used the grant but its answer was lost on the way back, the retry hears "redeemed" rather than
 * "already used" and the pipeline goes on with the access it got.
 */
export async function redeemOnce(http: Pick<CliHttp, 'call'>, token: string, options: RedeemOptions): Promise<{ data: VerifyResult; raw: unknown }> {
  const redemptionKey = options.redemptionKey ?? `cli-${randomUUID()}`;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = 500;
  let keyed = true;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await http.call('POST', '/api/v1/grants/redeem', verifyResultSchema, { body: keyed ? { token, redemptionKey } : { token } });
    } catch (error) {
      if (keyed && olderHub(error)) {
        note(options.io, 'this hub is older and takes no redemption key: if its answer is lost now, running again is told the grant was already used');
        keyed = false;
        continue;
      }
      if (!isTransient(error)) throw error;
      if (attempt === ATTEMPTS) {
        throw new CliError(`${error.message}; the grant may have been used: run the same command again with --redemption-key ${redemptionKey} to hear whether it was`, {
          code: error.code,
          exitCode: error.exitCode,
          localCode: error.localCode,
        });
      }
      note(options.io, `${error.describe().replace(/^error: /, '')}; retrying`);
      await sleep(delay);
      delay *= 2;
    }
  }
}
