import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInThroughBrowser } from '../electron/browser-sign-in-attempt.js';
import { createKeychain, KEYCHAIN_SERVICE } from '../electron/keychain.js';
import { Settings, type SettingsData } from '../electron/settings.js';
import { settingsStoreOptions } from '../electron/settings-store.js';
import { desktopMainsAgainst } from '../electron/test/desktop-mains.js';
import { noPrivateKeyring, startPrivateKeyring, type PrivateKeyring } from '../electron/test/private-keyring.js';
import { ADMIN_TOKEN } from '../server/test-support/hub-fixture.js';
import { freePort } from '../server/test-support/hub-process.js';
import { startSingleSignOnHub } from '../server/test-support/single-sign-on-hub.js';

/**
 * A locked OS keychain, the real one (gnome-keyring over its own D-Bus session) locked as at screen lock,
 * with nobody to unlock it: a read answers (with nothing), a removal answers that it removed nothing, only
 * a write is refused. What needs an unlocked keychain first (signing in, saving a launch's entry) is done
 * before the tests, which then find it locked.
 */
const skipReason = `skipped when this machine cannot start a Secret Service of its own: ${noPrivateKeyring ?? 'it can'}`;
const { sso, desktopMain } = desktopMainsAgainst(startSingleSignOnHub);
let keyring: PrivateKeyring | null = null;

/** The app's settings file (electron-store's format, through `conf`), read afresh by each launch. */
function settingsFile() {
  const cwd = mkdtempSync(join(tmpdir(), 'gl-locked-settings-'));
  const { name: configName, ...options } = settingsStoreOptions();
  return () => new Settings(new Conf<SettingsData>({ ...options, configName, cwd }));
}

/** Signed in through the browser while the keychain was unlocked; signs out in a test once it is locked. */
let signedIn: { main: ReturnType<typeof desktopMain>; token: string; launch: ReturnType<typeof settingsFile> } | null = null;
/** A hub the settings say the app was signed in to, with its entry saved while the keychain was unlocked. */
let savedHub = '';

beforeAll(async () => {
  if (noPrivateKeyring) return;
  keyring = await startPrivateKeyring();
  const launch = settingsFile();
  const main = desktopMain(createKeychain(keyring.keytar), { settings: launch() });
  await main.signInThroughTheBrowser();
  const token = (await createKeychain(keyring.keytar).read(sso().hub.url))?.token ?? '';
  signedIn = { main, token, launch };
  savedHub = `http://127.0.0.1:${await freePort()}`;
  await keyring.keytar.setPassword(KEYCHAIN_SERVICE, savedHub, JSON.stringify({ token: 'glt_saved_before_the_lock', kind: 'pasted' }));
  await keyring.lock();
});
afterAll(async () => {
  await keyring?.dispose();
});

const sessionsStarted = async () => (await sso().hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=session.started', ADMIN_TOKEN)).body.events.length;
/** Whether the hub still takes the token. */
const works = async (token: string) => (await sso().hub.api('GET', '/api/v1/me', token)).status === 200;

describe.skipIf(noPrivateKeyring !== null)(`a locked keychain (${skipReason})`, () => {
  it('signing in through the browser: fails at once saying to unlock the keychain, before any browser opens, and the hub starts no session', async () => {
    if (!keyring) throw new Error('the private keyring did not start');
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

  it('removing an entry fails saying the keychain is locked, rather than answering as if there were none', async () => {
    if (!keyring) throw new Error('the private keyring did not start');
    await expect(createKeychain(keyring.keytar).remove(savedHub)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('keychain is locked') });
  });

  it('signing out: the hub ends the session, the person is told the entry stays in their keychain and what to do, and the next launch neither signs in with it nor loses that note', async () => {
    if (!signedIn) throw new Error('the sign-in before the lock did not happen');
    const { main, token, launch } = signedIn;
    const hubUrl = sso().hub.url;
    const note = expect.stringMatching(
      new RegExp(`^Signed out, but the OS keychain is locked, so the saved sign-in for ${hubUrl} could not be removed: it may remain in your keychain \\(the entry "Greenlight" for ${hubUrl}\\), unless it was never saved there\\. Greenlight will not use it again\\. Remove it in your keychain app, or unlock the keychain, sign in and sign out again\\.`),
    );
    const session = await main.connection.signOut();
    expect(session).toMatchObject({ hubUrl, signedIn: false, state: 'signed-out', signOutNote: note });
    expect(main.events.at(-1)).toEqual({ type: 'state', session: main.connection.session });
    await main.connection.errands.settled();
    expect(await works(token)).toBe(false);
    main.connection.close();

    const relaunched = desktopMain(createKeychain(keyring?.keytar ?? null), { settings: launch() });
    expect(await relaunched.connection.restore()).toEqual({ hubUrl, signedIn: false, state: 'signed-out', error: null, signOutNote: note });
  });

  it('a launch signed in to a hub whose entry the locked keychain does not give: signed out, saying the keychain is locked and to unlock it', async () => {
    if (!keyring) throw new Error('the private keyring did not start');
    const main = desktopMain(createKeychain(keyring.keytar), { hubUrl: savedHub });
    const session = await main.connection.restore();
    expect(session).toEqual({
      hubUrl: savedHub,
      signedIn: false,
      state: 'signed-out',
      error: { code: 'UNAVAILABLE', message: expect.stringMatching(/^The OS keychain is locked: unlock it to sign in again automatically/) },
    });
  });
});
