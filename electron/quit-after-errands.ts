import type { HubErrands } from './hub-errands.js';
import { REVOKE_SESSION_DEADLINE_MS } from './revoke-session.js';

/**
 * How long a quit waits for sessions to be ended at the hub before it goes on regardless: longer than
 * ending one may take, so a revoke begun before the quit has ended, or given up, by then.
 */
export const QUIT_WAIT_FOR_ERRANDS_MS = REVOKE_SESSION_DEADLINE_MS + 500;

export interface QuitAfterErrandsDeps {
  errands: Pick<HubErrands, 'busy' | 'settled'>;
  quit: () => void;
  /** Resolves after `ms`; a timer unless given. */
  wait?: (ms: number) => Promise<void>;
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * For `before-quit`: a quit while a session is still being ended at the hub (sign out, then quit at
 * once) is put off until that is done, for `QUIT_WAIT_FOR_ERRANDS_MS` at the most, so the session
 * does not stay valid at the hub until it expires. Returns whether this quit was put off; the quit
 * that follows goes through.
 */
export function quitAfterErrands({ errands, quit, wait = timer }: QuitAfterErrandsDeps): (event: { preventDefault(): void }) => boolean {
  let putOff = false;
  return (event) => {
    if (putOff || !errands.busy) return false;
    putOff = true;
    event.preventDefault();
    void Promise.race([errands.settled(), wait(QUIT_WAIT_FOR_ERRANDS_MS)]).then(quit);
    return true;
  };
}
