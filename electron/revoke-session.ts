import { HubHttp } from '../protocol/hub-http.js';

/**
 * Revokes a session the hub issued that nobody will keep (its sign-in was cancelled after the hub had
 * issued it), so it does not stay valid until it expires. It asks with the session itself: the hub marks
 * the token a listing was asked with, and a token may always revoke itself. Best effort: where the hub
 * cannot be reached the session lapses at its expiry, unused, since nothing kept its token.
 */
export async function revokeUnkeptSession(hubUrl: string, token: string, fetchImpl: typeof fetch = fetch): Promise<void> {
  const http = new HubHttp({ fetch: (url, init) => fetchImpl(url, init), session: () => ({ hubUrl, token }), timeoutMs: 5_000 });
  try {
    const current = (await http.listTokens()).find((info) => info.current);
    if (current) await http.revokeToken(current.id);
  } catch (error) {
    console.warn(`Greenlight: could not revoke at ${hubUrl} the session of a cancelled sign-in; it lapses at its expiry: ${String(error)}`);
  }
}
