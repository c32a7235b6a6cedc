import type { DesktopSession } from '../protocol/desktop-api.js';
import type { HubConnection } from './hub-connection.js';
import { browserSignInCancelled, signInWithBrowser } from './oidc-loopback.js';
import { revokeUnkeptSession } from './revoke-session.js';

export interface BrowserSignInAttemptDeps {
  connection: Pick<HubConnection, 'signIn'>;
  openExternal: (url: string) => Promise<void>;
  /** The app's HTTP to the hub (the code trade, revoking); the global fetch unless given. */
  fetch?: typeof fetch;
}

/**
 * One sign-in through the browser, cancellable by `signal` at every step until main is signed in: the
 * wait for the browser, the code traded at the hub for a session, and main connecting with it. A cancel
 * once the hub had issued the session leaves main without it (not connected, not in the keychain), and
 * the hub revokes it.
 */
export async function signInThroughBrowser(deps: BrowserSignInAttemptDeps, hubUrl: string, signal: AbortSignal): Promise<DesktopSession> {
  const fetchImpl = deps.fetch ?? fetch;
  const session = await signInWithBrowser({ hubUrl, openExternal: deps.openExternal, signal, fetch: fetchImpl });
  try {
    return await deps.connection.signIn(hubUrl, session.token, { signal, kind: 'sso' });
  } catch (error) {
    if (!signal.aborted) throw error;
    await revokeUnkeptSession(hubUrl, session.token, fetchImpl);
    throw browserSignInCancelled();
  }
}
