import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInThroughBrowser } from '../electron/browser-sign-in-attempt.js';
import { createKeychain } from '../electron/keychain.js';
import { desktopMainsAgainst } from '../electron/test/desktop-mains.js';
import { noPrivateKeyring, startPrivateKeyring, type PrivateKeyring } from '../electron/test/private-keyring.js';
import { ADMIN_TOKEN } from '../server/test-support/hub-fixture.js';
import { startSingleSignOnHub } from '../server/test-support/single-sign-on-hub.js';

/**
 * A locked OS keychain, the real one (gnome-keyring over its own D-Bus session) locked as at screen lock,
 * with nobody to unlock it: a read answers (with nothing), only a write is refused. A sign-in says so
 * before it starts anything, rather than after the person finished in the browser for a session the app
 * then cannot keep.
 */
const skipReason = `skipped when this machine cannot start a Secret Service of its own: ${noPrivateKeyring ?? 'it can'}`;
const { sso, desktopMain } = desktopMainsAgainst(startSingleSignOnHub);
let keyring: PrivateKeyring | null = null;
beforeAll(async () => {
  if (!noPrivateKeyring) keyring = await startPrivateKeyring();
});
afterAll(async () => {
  await keyring?.dispose();
});

const sessionsStarted = async () => (await sso().hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=session.started', ADMIN_TOKEN)).body.events.length;

describe.skipIf(noPrivateKeyring !== null)(`a locked keychain (${skipReason})`, () => {
  it('signing in through the browser: fails at once saying to unlock the keychain, before any browser opens, and the hub starts no session', async () => {
    if (!keyring) throw new Error('the private keyring did not start');
    await keyring.lock();
    const before = await sessionsStarted();
    const opened: string[] = [];
    const main = desktopMain(createKeychain(keyring.keytar));
    // A browser stand-in that signs in as the real one would, noting that it was opened.
    const browser = sso().browser();
    const openExternal = async (url: string) => {
      opened.push(url);
      await browser(url);
    };
    const failed = await signInThroughBrowser({ connection: main.connection, openExternal, errands: main.connection.errands }, sso().hub.url, new AbortController().signal).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/keychain is locked\. Unlock it/) });
    expect(opened).toEqual([]);
    expect(main.connection.session).toMatchObject({ signedIn: false, state: 'signed-out', error: { code: 'UNAVAILABLE', message: expect.stringContaining('Unlock it') } });
    expect(main.events.at(-1)).toEqual({ type: 'state', session: main.connection.session });
    await main.connection.errands.settled();
    expect(await sessionsStarted()).toBe(before);
  });
});
