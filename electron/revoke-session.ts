import { GreenlightError } from '../protocol/errors.js';
import { HubHttp } from '../protocol/hub-http.js';

/**
 * Ends at the hub the session `token` stands for. It asks with the session itself: the hub marks the
 * token a listing was asked with, and a token may always revoke itself. A hub that refuses the token
 * (already revoked or expired) has nothing left to end.
 */
async function revokeSession(hubUrl: string, token: string, fetchImpl: typeof fetch): Promise<void> {
  const http = new HubHttp({ fetch: (url, init) => fetchImpl(url, init), session: () => ({ hubUrl, token }), timeoutMs: 5_000 });
  try {
    const current = (await http.listTokens()).find((info) => info.current);
    if (current) await http.revokeToken(current.id);
  } catch (error) {
    if (error instanceof GreenlightError && error.code === 'UNAUTHENTICATED') return;
    throw error;
  }
}

/**
 * Revokes a session the hub issued that nobody will keep (its sign-in was cancelled, or failed, after the
 * hub had issued it), so it does not stay valid until it expires. Best effort: where the hub cannot be
 * reached the session lapses at its expiry, unused, since nothing kept its token.
 */
export async function revokeUnkeptSession(hubUrl: string, token: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  try {
    await revokeSession(hubUrl, token, fetchImpl);
  } catch (error) {
    console.warn(`Greenlight: could not revoke at ${hubUrl} the session of a sign-in that did not finish; it lapses at its expiry: ${String(error)}`);
  }
}

/**
 * Ends the single sign-on session a newer sign-in took the place of: the app no longer keeps it, so
 * nothing should be able to use it. The newer sign-in stands whatever happens here, so a failure is
 * only logged (never with the token).
 */
export async function endReplacedSession(hubUrl: string, token: string, fetchImpl: typeof fetch): Promise<void> {
  try {
    await revokeSession(hubUrl, token, fetchImpl);
  } catch (error) {
    console.warn(`Greenlight: signed in again, but could not end at ${hubUrl} the single sign-on session signed in over; it lapses at its expiry: ${String(error)}`);
  }
}

/**
 * Ends the single sign-on session of a person signing out. Sign-out goes on whatever happens here, so a
 * failure is logged (never with the token) and returned, for the app to tell the person; null once ended.
 */
export async function endSessionAtSignOut(hubUrl: string, token: string, fetchImpl: typeof fetch): Promise<GreenlightError | null> {
  try {
    await revokeSession(hubUrl, token, fetchImpl);
    return null;
  } catch (error) {
    console.warn(`Greenlight: signed out, but could not end the sign-in session at ${hubUrl}; it lapses at its expiry: ${String(error)}`);
    const why = error instanceof Error ? error.message : String(error);
    return new GreenlightError(
      'UNAVAILABLE',
      `Signed out on this computer, but the hub at ${hubUrl} could not be reached to end the sign-in session there (${why}). It stays valid until it expires; nothing on this computer keeps it.`,
    );
  }
}
