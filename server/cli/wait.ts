import { requestSchema, type GreenlightRequest } from '../../protocol/index.js';
import { CliError, EXIT } from './cli-error.js';
import type { CliHttp } from './http.js';
import { note, type Io } from './output.js';

/** The hub caps one long poll; shorter calls also notice a dropped connection sooner. */
const MAX_POLL_SECONDS = 30;
const MAX_RETRY_DELAY_MS = 5_000;
const MIN_POLL_MS = 1_000;

export interface WaitOptions {
  timeoutSeconds: number;
  io: Io;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const RETRYABLE_CODES = new Set(['RATE_LIMITED', 'UNAVAILABLE', 'TIMEOUT']);

/** Worth retrying while time remains: the hub may be restarting, overloaded, or briefly without its database. */
export function isTransient(error: unknown): error is CliError {
  if (!(error instanceof CliError)) return false;
  if (error.code === null) return error.exitCode === EXIT.usage;
  return RETRYABLE_CODES.has(error.code);
}

export interface WaitOutcome {
  /** The latest state the hub reported; still `pending` when the timeout passed first. */
  request: GreenlightRequest;
  /** Why the hub could not be reached when the timeout passed, if it could not: the state above may be stale. */
  unreachableAtEnd: CliError | null;
}

/**
 * Long-polls until the request leaves `pending` or the overall timeout passes. Returns the latest
 * state either way, a hub that was away at the end included (that is a timeout too, not a failure
 * to ask); the caller turns the status into an exit code.
 */
export async function waitForDecision(http: Pick<CliHttp, 'call'>, initial: GreenlightRequest, options: WaitOptions): Promise<WaitOutcome> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const deadline = now() + options.timeoutSeconds * 1000;
  let current = initial;
  let retryDelay = 500;
  let lastFailure: CliError | null = null;
  while (current.status === 'pending') {
    const remainingMs = deadline - now();
    if (remainingMs <= 0) break;
    const pollSeconds = Math.max(1, Math.min(MAX_POLL_SECONDS, Math.ceil(remainingMs / 1000)));
    const pollStarted = now();
    try {
      const { data } = await http.call('GET', `/api/v1/requests/${encodeURIComponent(current.id)}/wait`, requestSchema, {
        query: { timeoutSeconds: pollSeconds },
        timeoutMs: (pollSeconds + 15) * 1000,
      });
      if (lastFailure) note(options.io, 'reconnected to the hub');
      lastFailure = null;
      retryDelay = 500;
      current = data;
      // A pending answer well before the poll's end means the hub let go early (it may be shutting
      // down); pausing keeps the loop from hammering it.
      if (current.status === 'pending' && now() - pollStarted < MIN_POLL_MS) await sleep(Math.min(MIN_POLL_MS, Math.max(0, deadline - now())));
    } catch (error) {
      if (!isTransient(error)) throw error;
      if (!lastFailure) note(options.io, `${error.describe().replace(/^error: /, '')}; retrying until the timeout`);
      lastFailure = error;
      await sleep(Math.min(retryDelay, Math.max(0, deadline - now())));
      retryDelay = Math.min(retryDelay * 2, MAX_RETRY_DELAY_MS);
    }
  }
  return { request: current, unreachableAtEnd: current.status === 'pending' ? lastFailure : null };
}

/** The exit status `request --wait` promises for each outcome. */
export function exitCodeForStatus(status: GreenlightRequest['status']): number {
  switch (status) {
    case 'approved':
      return EXIT.ok;
    case 'denied':
      return EXIT.denied;
    case 'expired':
    case 'cancelled':
      return EXIT.expired;
    case 'pending':
      return EXIT.timedOut;
  }
}
