import { TestHub } from './hub-fixture.js';
import { freePort } from './hub-process.js';
import { CLIENT_ID, CLIENT_SECRET, TestOidcProvider } from './oidc-provider.js';

/** The provider's subject of bob, in the provider's `sre` group, which the hub maps to approver. */
export const BOB = 'bob-sub';

export interface SingleSignOnHub {
  hub: TestHub;
  provider: TestOidcProvider;
  /**
   * Stands in for the system browser (not available here): follows the URL the app opened through the
   * hub, the real provider's login and consent pages as `login`, back to the hub and on to the app's
   * loopback address. `seen` collects the URL opened and the loopback address it was sent back to.
   */
  browser(login?: string, seen?: string[]): (url: string) => Promise<void>;
  dispose(): Promise<void>;
}

/** A real hub (SQLite) whose single sign-on goes to a real OpenID Provider on loopback, where bob can sign in. */
export async function startSingleSignOnHub(): Promise<SingleSignOnHub> {
  const provider: TestOidcProvider = new TestOidcProvider(await freePort(), () => [`${hub.url}/auth/oidc/callback`]);
  const hub = new TestHub('sqlite', {
    oidc: {
      issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, name: 'Test IdP', scopes: ['openid', 'profile', 'email', 'groups'],
      groupsClaim: 'groups', emailClaim: 'email', usernameClaim: 'preferred_username', roleMapping: { approver: ['sre'] }, caFile: provider.caFile,
    },
  });
  await hub.start();
  await provider.start();
  provider.accounts.set(BOB, { preferred_username: 'bob', email: 'bob@example.com', groups: ['sre'] });
  return {
    hub,
    provider,
    browser: (login = BOB, seen = []) => async (url) => {
      seen.push(url);
      const { callback, hubCookie } = await provider.signIn(url, login);
      const back = await fetch(callback, { redirect: 'manual', headers: { cookie: hubCookie } });
      const loopback = back.headers.get('location');
      if (back.status !== 303 || !loopback) throw new Error(`the hub did not send the browser back to the app: ${back.status} ${(await back.text()).slice(0, 200)}`);
      seen.push(loopback);
      await fetch(loopback);
    },
    dispose: async () => {
      await hub.dispose();
      await provider.dispose();
    },
  };
}

