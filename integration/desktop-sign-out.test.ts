import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createKeychain, KEYCHAIN_SERVICE, type KeytarLike } from '../electron/keychain.js';
import { signInWithBrowser } from '../electron/oidc-loopback.js';
import { desktopMainsAgainst } from '../electron/test/desktop-mains.js';
import { revokesHeld } from '../electron/test/held-revokes.js';
import { memoryKeychain, memorySettings } from '../electron/test/memory.js';
import { eventually } from '../server/test-support/eventually.js';
import { ADMIN_TOKEN, type TestHub } from '../server/test-support/hub-fixture.js';
import { freePort } from '../server/test-support/hub-process.js';
import { startSingleSignOnHub, type SingleSignOnHub } from '../server/test-support/single-sign-on-hub.js';

const { sso: started, desktopMain } = desktopMainsAgainst(startSingleSignOnHub);
let sso: SingleSignOnHub;
let hub: TestHub;
beforeAll(() => {
  sso = started();
  ({ hub } = sso);
});

/** Whether the hub still takes the token. */
const works = async (token: string) => (await hub.api('GET', '/api/v1/me', token)).status === 200;

/** keytar's calls over a map of service/account to the entry's text, as an older app left it. */
function keytarHolding(entries: Map<string, string>): KeytarLike {
  return {
    getPassword: async (service, account) => entries.get(`${service}/${account}`) ?? null,
    setPassword: async (service, account, password) => void entries.set(`${service}/${account}`, password),
    deletePassword: async (service, account) => entries.delete(`${service}/${account}`),
  };
}

describe('signed out because the hub ended the session', () => {
  it('the reason, in the hub\'s words, is still there after the app quits and starts again, until dismissed', async () => {
    const kim = await hub.createUser('kim', ['approver'], ['sre']);
    const keychain = memoryKeychain();
    const { settings } = memorySettings();
    const before = desktopMain(keychain, { settings });
    await before.connection.signIn(hub.url, kim.token);
    expect((await hub.api('POST', '/api/v1/users/kim/disable', ADMIN_TOKEN, {})).status).toBe(200);
    await eventually(() => before.connection.session.state === 'unauthorized', { what: 'the hub to refuse kim\'s session', deadline: 10_000, every: 20 });
    // As the window does when the hub refuses a session it shows; then the app quits.
    await before.connection.signOut();
    before.connection.close();

    const relaunched = desktopMain(keychain, { settings });
    const session = await relaunched.connection.restore();
    expect(session).toMatchObject({ hubUrl: hub.url, signedIn: false, state: 'signed-out', signOutNote: expect.stringMatching(new RegExp(`^You were signed out by the hub at ${hub.url}: .*disabled`)) });

    relaunched.connection.dismissSignOutNote();
    relaunched.connection.close();
    expect(await desktopMain(keychain, { settings }).connection.restore()).not.toHaveProperty('signOutNote');
  });
});

describe('desktop sign-out against a real hub', () => {
  it('signed in through the browser (single sign-on): sign-out ends that session at the hub and removes it from the keychain', async () => {
    const main = desktopMain(memoryKeychain());
    await main.signInThroughTheBrowser();
    const stored = main.keychain.entries.get(hub.url);
    expect(stored?.kind).toBe('sso');
    const token = stored?.token ?? '';
    expect(await works(token)).toBe(true);

    const session = await main.connection.signOut();
    expect(session).toEqual({ hubUrl: hub.url, signedIn: false, state: 'signed-out', error: null });
    expect(main.events.at(-1)).toEqual({ type: 'state', session });
    expect([...main.keychain.entries]).toEqual([]);
    await main.connection.errands.settled();
    expect(await works(token)).toBe(false);
    expect(main.events.at(-1)).toEqual({ type: 'state', session });
  });

  it('signing out happens here first: signed out, the window told and the keychain entry gone while the hub is still being asked to end the session (its revoke held at the app’s fetch, a stand-in at the edge)', async () => {
    const happened: string[] = [];
    const held = revokesHeld(happened);
    const main = desktopMain(memoryKeychain(), { fetch: held.fetch });
    await main.signInThroughTheBrowser();
    const token = main.keychain.entries.get(hub.url)?.token ?? '';

    const session = await main.connection.signOut();
    happened.push('signed out');
    expect(session).toEqual({ hubUrl: hub.url, signedIn: false, state: 'signed-out', error: null });
    expect(main.events.at(-1)).toEqual({ type: 'state', session });
    expect([...main.keychain.entries]).toEqual([]);

    held.release();
    await main.connection.errands.settled();
    expect(happened).toEqual(['signed out', 'revoke sent']);
    expect(await works(token)).toBe(false);
  });

  it('signed in with a pasted token: sign-out leaves that token working at the hub (it may be in use elsewhere, as in the CLI)', async () => {
    const carol = await hub.createUser('carol', ['approver'], ['sre']);
    const main = desktopMain(memoryKeychain());
    await main.connection.signIn(hub.url, carol.token);
    expect(main.keychain.entries.get(hub.url)).toEqual({ token: carol.token, kind: 'pasted' });

    expect(await main.connection.signOut()).toMatchObject({ signedIn: false, state: 'signed-out', error: null });
    expect([...main.keychain.entries]).toEqual([]);
    expect(await works(carol.token)).toBe(true);
  });

  it('a keychain entry kept by an older app (the bare token, its kind unknown) is taken as pasted: restored, then signed out, even a single sign-on session is left to its owner', async () => {
    const session = await signInWithBrowser({ hubUrl: hub.url, openExternal: sso.browser(), timeoutMs: 30_000 });
    const raw = new Map([[`${KEYCHAIN_SERVICE}/${hub.url}`, session.token]]);
    const main = desktopMain(createKeychain(keytarHolding(raw)), { hubUrl: hub.url });
    await main.connection.restore();
    expect(main.connection.session).toMatchObject({ signedIn: true });

    expect(await main.connection.signOut()).toMatchObject({ signedIn: false, state: 'signed-out', error: null });
    expect([...raw]).toEqual([]);
    expect(await works(session.token)).toBe(true);
  });

  it('a hub that cannot be reached at sign-out: signed out here at once all the same, the window told afterwards the session lives on at the hub, and the token never logged', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const keychain = memoryKeychain();
    keychain.entries.set(down, { token: 'glt_session_of_a_hub_that_is_down', kind: 'sso' });
    const main = desktopMain(keychain, { hubUrl: down });
    await main.connection.restore();
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const signedOut = await main.connection.signOut();
      expect(signedOut).toEqual({ hubUrl: down, signedIn: false, state: 'signed-out', error: null });
      expect(main.events.at(-1)).toEqual({ type: 'state', session: signedOut });
      expect([...keychain.entries]).toEqual([]);

      // Told afterwards, once the hub could not be reached.
      await main.connection.errands.settled();
      const session = main.connection.session;
      expect(session).toEqual({
        hubUrl: down,
        signedIn: false,
        state: 'signed-out',
        error: null,
        signOutNote: expect.stringMatching(new RegExp(`^Signed out on this computer, but the hub at ${down} could not be reached to end the sign-in session there \\(.+\\)\\. It stays valid until it expires; nothing on this computer keeps it\\.$`)),
      });
      expect(main.events.at(-1)).toEqual({ type: 'state', session });
      expect([...keychain.entries]).toEqual([]);
      expect(warned).toHaveBeenCalledWith(expect.stringContaining(`could not end at ${down} the sign-in session signed out of`));
      expect(warned.mock.calls.flat().join('\n')).not.toContain('glt_session_of_a_hub_that_is_down');
      expect(JSON.stringify(main.events)).not.toContain('glt_session_of_a_hub_that_is_down');
    } finally {
      warned.mockRestore();
    }
  });

  it('a sign-in made while the hub ends the session signed out of (its revoke held at the app’s fetch, a stand-in at the edge) stays signed in and kept', async () => {
    const dave = await hub.createUser('dave', ['approver'], ['sre']);
    let signedInMeanwhile: Promise<unknown> = Promise.resolve();
    const revokeAfterASignIn: typeof fetch = async (input, init) => {
      if (init?.method === 'DELETE') {
        signedInMeanwhile = main.connection.signIn(hub.url, dave.token);
        await signedInMeanwhile;
      }
      return fetch(input, init);
    };
    const main = desktopMain(memoryKeychain(), { fetch: revokeAfterASignIn });
    await main.signInThroughTheBrowser();
    const ssoToken = main.keychain.entries.get(hub.url)?.token ?? '';

    await main.connection.signOut();
    await main.connection.errands.settled();
    expect(await signedInMeanwhile).toMatchObject({ signedIn: true });
    expect(main.connection.session).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(main.connection.me?.name).toBe('dave');
    expect(main.keychain.entries.get(hub.url)).toEqual({ token: dave.token, kind: 'pasted' });
    expect(await works(ssoToken)).toBe(false);
  });

  it('a sign-in made while the hub is asked to end the session signed out of, which it cannot be reached for: the sign-in is left alone, not told of the old session', async () => {
    const erin = await hub.createUser('erin', ['approver'], ['sre']);
    let signedInMeanwhile: Promise<unknown> = Promise.resolve();
    const signInThenUnreachable: typeof fetch = async (input, init) => {
      if (init?.method === 'DELETE') {
        signedInMeanwhile = main.connection.signIn(hub.url, erin.token);
        await signedInMeanwhile;
        throw new TypeError('fetch failed');
      }
      return fetch(input, init);
    };
    const main = desktopMain(memoryKeychain(), { fetch: signInThenUnreachable });
    await main.signInThroughTheBrowser();
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await main.connection.signOut();
      await main.connection.errands.settled();
      expect(await signedInMeanwhile).toMatchObject({ signedIn: true });
      expect(warned).toHaveBeenCalledWith(expect.stringContaining(`could not end at ${hub.url} the sign-in session signed out of`));
    } finally {
      warned.mockRestore();
    }
    expect(main.connection.session).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(main.events.at(-1)).toMatchObject({ type: 'state', session: { signedIn: true, error: null } });
    expect(main.keychain.entries.get(hub.url)).toEqual({ token: erin.token, kind: 'pasted' });
  });
});
