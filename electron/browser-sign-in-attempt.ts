import type { DesktopSession } from '../protocol/desktop-api.js';
import type { HubConnection } from './hub-connection.js';
import { browserSignInCancelled, signInWithBrowser } from './oidc-loopback.js';
import { revokeUnkeptSession } from './revoke-session.js';
import { unownedErrands, type HubErrands } from './hub-errands.js';

export interface BrowserSignInAttemptDeps {
  connection: Pick<HubConnection, 'signIn' | 'holds' | 'ensureKeychain'>;
  openExternal: (url: string) => Promise<void>;
  /** The app's HTTP to the hub (the code trade, revoking); the global fetch unless given. */
  fetch?: typeof fetch;
  /** Where sessions nobody keeps are revoked, with nobody waiting on it. */
  errands?: HubErrands;
}

/**
 * One sign-in through the browser, cancellable by `signal` at every step until main is signed in: the
 * wait for the browser, the code traded at the hub for a session, and main connecting with it. A
 * keychain that cannot keep a token now (none on this machine, or one locked that stays locked) ends it
 * before the browser opens. Once the hub had issued the session, a sign-in that ends any other way than
 * signed in (cancelled, refused, or with a keychain that refuses to keep the session, locked meanwhile)
 * leaves main without it (not connected, not in the keychain), so it is revoked at the hub, as an errand:
 * the sign-in ends at once. A sign-in that failed after main took the session on (its keychain entry
 * saved, say, and then the settings could not be written) leaves main connected with it: that session is
 * never revoked.
 */
export async function signInThroughBrowser(deps: BrowserSignInAttemptDeps, hubUrl: string, signal: AbortSignal): Promise<DesktopSession> {
  const fetchImpl = deps.fetch ?? fetch;
  const errands = deps.errands ?? unownedErrands;
  // Before the browser opens: the person would otherwise finish at the identity provider for a session
  // the app then cannot keep, and has to be revoked.
  await deps.connection.ensureKeychain();
  const session = await signInWithBrowser({ hubUrl, openExternal: deps.openExternal, signal, fetch: fetchImpl, errands });
  try {
    // Required: a session kept for this run only would be lost at quit, yet stay valid at the hub until it expires.
    return await deps.connection.signIn(hubUrl, session.token, { signal, kind: 'sso', keychain: 'required' });
  } catch (error) {
    if (deps.connection.holds(session.token)) throw error;
    errands.start(`revoking at ${hubUrl} the session of a sign-in that did not finish`, () => revokeUnkeptSession(hubUrl, session.token, fetchImpl));
    throw signal.aborted ? browserSignInCancelled() : error;
  }
}
