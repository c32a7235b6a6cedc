import { z } from 'zod';

const linkTokenSchema = z.string().trim().min(1).max(512);

/**
 * The token of a sign-in link (`https://hub/#token=glt_…`, as `greenlight demo` prints), taken once:
 * the fragment is removed from the address bar with history.replaceState, so the token is not left
 * in the history, a bookmark or a shared screenshot of the URL. A fragment is never sent to the
 * server, so the token reached only this page. Null when the address holds no token.
 */
export function takeLinkToken(location: Pick<Location, 'hash' | 'pathname' | 'search'>, history: Pick<History, 'replaceState' | 'state'>): string | null {
  if (!location.hash.startsWith('#')) return null;
  const params = new URLSearchParams(location.hash.slice(1));
  if (!params.has('token')) return null;
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  const parsed = linkTokenSchema.safeParse(params.get('token'));
  return parsed.success ? parsed.data : null;
}
