import { z } from 'zod';
import { describeZodError, GreenlightError } from '../protocol/errors.js';
import { badAnswer, errorOfAnswer, HubHttpError, unreachable } from '../protocol/hub-http-error.js';
import { whenCancelled } from './cancellation.js';
import { unownedErrands, type HubErrands } from './hub-errands.js';
import { revokeUnkeptSession } from './revoke-session.js';

/** What the hub hands the desktop app at the end of a single sign-on: a session token for the keychain. */
export const desktopSessionSchema = z.object({ token: z.string().startsWith('glt_'), expiresAt: z.string(), user: z.string() });
export type DesktopSession = z.infer<typeof desktopSessionSchema>;

export const browserSignInCancelled = () => new GreenlightError('CANCELLED', 'Sign-in through the browser was cancelled.');

/** How long a cancelled sign-in still waits for the hub's answer to a code it sent, to revoke the session that answer carries. */
export const ANSWER_AFTER_CANCEL_MS = 10_000;

export interface CodeTrade {
  hub: string;
  code: string;
  verifier: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
  answerAfterCancelMs?: number;
  /** Where a cancelled trade waits for the hub's answer and revokes what it brings, with nobody waiting on it. */
  errands?: HubErrands;
}

/**
 * Trades the one-time code and the PKCE verifier at the hub for a session. A cancel ends it at once with
 * `CANCELLED`, but the request is not aborted: once sent, the hub may issue the session whatever the app
 * does, and only its answer carries the token that can revoke it. So, as an errand nobody waits on, the
 * answer is still awaited (for at most `answerAfterCancelMs`) and the session it brings revoked, and
 * nothing of the sign-in stays valid.
 */
export async function tradeCode(trade: CodeTrade): Promise<DesktopSession> {
  if (trade.signal?.aborted) throw browserSignInCancelled();
  const giveUp = new AbortController();
  const answer = requestSession(trade, giveUp.signal);
  // A cancel may win the race below before the answer has settled either way.
  answer.catch(() => undefined);
  const { cancelled, stopListening } = whenCancelled(trade.signal, browserSignInCancelled);
  try {
    return await Promise.race([answer, cancelled]);
  } catch (error) {
    if (!trade.signal?.aborted) throw error;
    (trade.errands ?? unownedErrands).start(`revoking at ${trade.hub} the session of a cancelled sign-in`, () => revokeLateSession(trade, answer, giveUp));
    throw browserSignInCancelled();
  } finally {
    stopListening();
  }
}

async function revokeLateSession(trade: CodeTrade, answer: Promise<DesktopSession>, giveUp: AbortController): Promise<void> {
  const waitMs = trade.answerAfterCancelMs ?? ANSWER_AFTER_CANCEL_MS;
  const timer = setTimeout(() => giveUp.abort(), waitMs);
  try {
    const late = await answer.catch((error: unknown) => {
      // The hub refused the code: it issued nothing.
      if (error instanceof HubHttpError && error.failure.kind === 'refused') return null;
      const why = giveUp.signal.aborted ? `no answer within ${waitMs} ms` : String(error);
      console.warn(`Greenlight: the code of a cancelled sign-in went unanswered by ${trade.hub} (${why}); a session the hub may have issued for it lapses at its expiry.`);
      return null;
    });
    if (late) await revokeUnkeptSession(trade.hub, late.token, trade.fetch);
  } finally {
    clearTimeout(timer);
  }
}

/** The trade itself, answer read and checked: a session, or why not. */
async function requestSession(trade: CodeTrade, signal: AbortSignal): Promise<DesktopSession> {
  const { hub } = trade;
  const answer = await trade
    .fetch(new URL('/auth/oidc/desktop/token', hub), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ code: trade.code, verifier: trade.verifier }),
      signal,
    })
    .catch((error: unknown) => {
      throw unreachable(hub, error);
    });
  // The hub's refusal keeps its code (an unknown or reused code, a wrong verifier).
  if (!answer.ok) throw await errorOfAnswer(hub, answer);
  const body: unknown = await answer.json().catch(() => null);
  const session = desktopSessionSchema.safeParse(body);
  if (!session.success) throw badAnswer(hub, describeZodError(session.error));
  return session.data;
}
