import { GreenlightError } from '../protocol/errors.js';
import { HubHttp } from '../protocol/hub-http.js';

/**
 * How long ending a session at the hub may take, its two calls together. Shorter than a quit waits for
 * it, so a quit right after sign-out never cuts a revoke off midway: by then it has ended, or given up
 * and said so, as it does when the hub cannot be reached.
 */
export const REVOKE_SESSION_DEADLINE_MS = 2_500;

/**
 * Ends at the hub the session `token` stands for. It asks with the session itself: the hub marks the
 * token a listing was asked with, and a token may always revoke itself. A hub that refuses the token
 * (already revoked or expired) has nothing left to end.
 */
async function revokeSession(hubUrl: string, token: string, fetchImpl: typeof fetch): Promise<void> {
  const deadline = AbortSignal.timeout(REVOKE_SESSION_DEADLINE_MS);
  const http = new HubHttp({ fetch: (url, init) => fetchImpl(url, { ...init, signal: deadline }), session: () => ({ hubUrl, token }) });
  try {
    const current = (await http.listTokens()).find((info) => info.current);
    if (current) await http.revokeToken(current.id);
  } catch (error) {
    if (error instanceof GreenlightError && error.code === 'UNAUTHENTICATED') return;
    throw error;
  }
}

/**
 * Ends at the hub the session `token` stands for, best effort: the app goes on whatever happens here,
 * so a failure is logged (never with the token; `whose` says which session it was) and returned.
 */
async function endLoggingFailure(hubUrl: string, token: string, fetchImpl: typeof fetch, whose: string): Promise<unknown> {
  try {
    await revokeSession(hubUrl, token, fetchImpl);
    return null;
  } catch (error) {
    console.warn(`Greenlight: could not end at ${hubUrl} ${whose}; it lapses at its expiry: ${String(error)}`);
    return error;
  }
}

/**
 * Revokes a session the hub issued that nobody will keep (its sign-in was cancelled, or failed, after the
 * hub had issued it), so it does not stay valid until it expires. Where the hub cannot be reached the
 * session lapses at its expiry, unused, since nothing kept its token.
 */
export async function revokeUnkeptSession(hubUrl: string, token: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  await endLoggingFailure(hubUrl, token, fetchImpl, 'the session of a sign-in that did not finish');
}

/** Ends the single sign-on session a newer sign-in took the place of: the app no longer keeps it, so nothing should be able to use it. */
export async function endReplacedSession(hubUrl: string, token: string, fetchImpl: typeof fetch): Promise<void> {
  await endLoggingFailure(hubUrl, token, fetchImpl, 'the single sign-on session signed in over');
}

/** Ends the single sign-on session of a person signing out; what to tell them when the hub could not, else null. */
export async function endSessionAtSignOut(hubUrl: string, token: string, fetchImpl: typeof fetch): Promise<GreenlightError | null> {
  const error = await endLoggingFailure(hubUrl, token, fetchImpl, 'the sign-in session signed out of');
  if (error === null) return null;
  const why = error instanceof Error ? error.message : String(error);
  return new GreenlightError(
    'UNAVAILABLE',
    `Signed out on this computer, but the hub at ${hubUrl} could not be reached to end the sign-in session there (${why}). It stays valid until it expires; nothing on this computer keeps it.`,
  );
}
