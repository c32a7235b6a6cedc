import { beforeAll, describe, expect, it, vi } from 'vitest';
import { signInThroughBrowser } from '../electron/browser-sign-in-attempt.js';
import type { HubConnectionDeps } from '../electron/hub-connection.js';
import { createKeychain, type Keychain, type KeytarLike } from '../electron/keychain.js';
import { signInWithBrowser } from '../electron/oidc-loopback.js';
import { desktopMainsAgainst } from '../electron/test/desktop-mains.js';
import { revokesHeld } from '../electron/test/held-revokes.js';
import { memoryKeychain, memorySettings } from '../electron/test/memory.js';
import { ADMIN_TOKEN, TestHub } from '../server/test-support/hub-fixture.js';
import { freePort } from '../server/test-support/hub-process.js';
import { startSingleSignOnHub, type SingleSignOnHub } from '../server/test-support/single-sign-on-hub.js';

/**
 * A single sign-on session the desktop app no longer keeps is ended at the hub, so it does not stay
 * valid, unused, until it expires: one replaced by signing in again, and one the keychain could not keep.
 * A pasted token is never ended: the person may use it elsewhere.
 */
const { sso: started, desktopMain: desktopMainAt } = desktopMainsAgainst(startSingleSignOnHub);
let sso: SingleSignOnHub;
let hub: TestHub;
beforeAll(() => {
  sso = started();
  ({ hub } = sso);
});

/** The app's fetch, as is, noting the session token each code trade at the hub answered with. */
function tradesNoted() {
  const issued: string[] = [];
  const noting: typeof fetch = async (input, init) => {
    const answer = await fetch(input, init);
    if (String(input).endsWith('/auth/oidc/desktop/token') && answer.ok) issued.push(((await answer.clone().json()) as { token: string }).token);
    return answer;
  };
  return { issued, fetch: noting };
}

/** Main's hub connection: a real client over a real socket, with the keychain given; signs in through the scripted browser. */
function desktopMain<K extends Keychain>(keychain: K, options: { hubUrl?: string; revokes?: (inner: typeof fetch) => typeof fetch; settings?: HubConnectionDeps['settings'] } = {}) {
  const trades = tradesNoted();
  const main = desktopMainAt(keychain, { hubUrl: options.hubUrl, settings: options.settings, fetch: options.revokes?.(trades.fetch) ?? trades.fetch, browserSignInFetch: trades.fetch });
  return { ...main, issued: trades.issued };
}

/** Whether the hub still takes the token. */
const works = async (token: string, at: TestHub = hub) => (await at.api('GET', '/api/v1/me', token)).status === 200;

describe('signing in again while holding a single sign-on session', () => {
  it('with a pasted token: the new token is kept and works, and the session signed in through the browser before is ended at the hub', async () => {
    const carol = await hub.createUser('carol', ['approver'], ['sre']);
    const main = desktopMain(memoryKeychain());
    await main.signInThroughTheBrowser();
    const [before] = main.issued;
    expect(main.keychain.entries.get(hub.url)).toEqual({ token: before, kind: 'sso' });

    expect(await main.connection.signIn(hub.url, carol.token)).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(main.connection.me?.name).toBe('carol');
    expect([...main.keychain.entries]).toEqual([[hub.url, { token: carol.token, kind: 'pasted' }]]);
    expect(await works(carol.token)).toBe(true);
    await main.connection.errands.settled();
    expect(await works(before ?? '')).toBe(false);
  });

  it('through the browser again: the new session is kept and works, and the one before is ended at the hub', async () => {
    const main = desktopMain(memoryKeychain());
    await main.signInThroughTheBrowser();
    await main.signInThroughTheBrowser();
    const [before, after] = main.issued;
    expect(after).not.toBe(before);
    expect([...main.keychain.entries]).toEqual([[hub.url, { token: after, kind: 'sso' }]]);
    expect(main.connection.session).toMatchObject({ signedIn: true, state: 'connected', error: null });
    expect(await works(after ?? '')).toBe(true);
    await main.connection.errands.settled();
    expect(await works(before ?? '')).toBe(false);
  });

  it('at another hub: signed in and kept there, and the session at the hub left behind is ended there', async () => {
    const other = await new TestHub('sqlite').start();
    try {
      const erin = await other.createUser('erin', ['approver']);
      const main = desktopMain(memoryKeychain());
      await main.signInThroughTheBrowser();
      const [before] = main.issued;

      expect(await main.connection.signIn(other.url, erin.token)).toEqual({ hubUrl: other.url, signedIn: true, state: 'connected', error: null });
      expect([...main.keychain.entries]).toEqual([[other.url, { token: erin.token, kind: 'pasted' }]]);
      expect(await works(erin.token, other)).toBe(true);
      await main.connection.errands.settled();
    expect(await works(before ?? '')).toBe(false);
    } finally {
      await other.dispose();
    }
  });

  it('a new sign-in the hub refuses leaves the session held working at the hub and kept; the next one that succeeds ends it', async () => {
    const dave = await hub.createUser('dave', ['approver'], ['sre']);
    const main = desktopMain(memoryKeychain());
    await main.signInThroughTheBrowser();
    const [before] = main.issued;

    await expect(main.connection.signIn(hub.url, 'glt_not_a_token_of_this_hub')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await works(before ?? '')).toBe(true);
    expect(main.keychain.entries.get(hub.url)).toEqual({ token: before, kind: 'sso' });

    await main.connection.signIn(hub.url, dave.token);
    expect([...main.keychain.entries]).toEqual([[hub.url, { token: dave.token, kind: 'pasted' }]]);
    await main.connection.errands.settled();
    expect(await works(before ?? '')).toBe(false);
  });

  it('a pasted token signed in over, by a browser sign-in or another token, keeps working at the hub (it may be in use elsewhere, as in the CLI)', async () => {
    const frank = await hub.createUser('frank', ['approver'], ['sre']);
    const grace = await hub.createUser('grace', ['approver'], ['sre']);
    const main = desktopMain(memoryKeychain());
    await main.connection.signIn(hub.url, frank.token);
    await main.signInThroughTheBrowser();
    expect(await works(frank.token)).toBe(true);

    await main.connection.signIn(hub.url, grace.token);
    await main.connection.signIn(hub.url, frank.token);
    expect(await works(grace.token)).toBe(true);
    expect(await works(frank.token)).toBe(true);
  });

  it('the new sign-in answers before the session signed in over is ended at the hub (its revoke held at the app’s fetch, a stand-in at the edge), which it is afterwards', async () => {
    const ida = await hub.createUser('ida', ['approver'], ['sre']);
    const happened: string[] = [];
    let held: ReturnType<typeof revokesHeld> | undefined;
    const main = desktopMain(memoryKeychain(), { revokes: (inner) => (held = revokesHeld(happened, inner)).fetch });
    await main.signInThroughTheBrowser();
    const [before] = main.issued;

    expect(await main.connection.signIn(hub.url, ida.token)).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    happened.push('signed in');
    expect(await works(before ?? '')).toBe(true);

    held?.release();
    await main.connection.errands.settled();
    expect(happened).toEqual(['signed in', 'revoke sent']);
    expect(await works(before ?? '')).toBe(false);
    expect(main.keychain.entries.get(hub.url)).toEqual({ token: ida.token, kind: 'pasted' });
  });

  it('a hub that cannot be reached to end the session left behind: the new sign-in succeeds all the same, and the token is never logged', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const keychain = memoryKeychain();
    keychain.entries.set(down, { token: 'glt_session_at_a_hub_that_is_down', kind: 'sso' });
    const main = desktopMain(keychain, { hubUrl: down });
    await main.connection.restore();
    const henry = await hub.createUser('henry', ['approver'], ['sre']);
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(await main.connection.signIn(hub.url, henry.token)).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
      expect([...keychain.entries]).toEqual([[hub.url, { token: henry.token, kind: 'pasted' }]]);
      await main.connection.errands.settled();
      expect(warned).toHaveBeenCalledWith(expect.stringContaining(`could not end at ${down} the single sign-on session signed in over`));
      expect(warned.mock.calls.flat().join('\n')).not.toContain('glt_session_at_a_hub_that_is_down');
      expect(JSON.stringify(main.events)).not.toContain('glt_session_at_a_hub_that_is_down');
    } finally {
      warned.mockRestore();
    }
  });
});

describe('signing in to another hub with a keychain that cannot remove the entry of the hub left behind (its remove refused by a fake keychain)', () => {
  it('is signed in, kept and told so, with a note naming the entry to remove by hand rather than a failure', async () => {
    const other = await new TestHub('sqlite').start();
    try {
      const erin = await other.createUser('erin', ['approver']);
      const keychain = memoryKeychain();
      const main = desktopMain(keychain);
      await main.signInThroughTheBrowser();
      keychain.remove = async () => {
        throw new Error('the keychain refused to delete the item');
      };

      const session = await main.connection.signIn(other.url, erin.token);
      expect(session).toEqual({
        hubUrl: other.url,
        signedIn: true,
        state: 'connected',
        error: null,
        signInNote: expect.stringMatching(new RegExp(`^Signed in\\. The saved sign-in for ${hub.url} could not be removed from the keychain: remove it in your keychain app`)),
      });
      expect(main.connection.me?.name).toBe('erin');
      expect(keychain.entries.get(other.url)).toEqual({ token: erin.token, kind: 'pasted' });
      expect(main.events.at(-1)).toEqual({ type: 'state', session });

      // Signing out ends what the note was about.
      keychain.remove = async (hubUrl) => keychain.entries.delete(hubUrl);
      expect(await main.connection.signOut()).not.toHaveProperty('signInNote');
    } finally {
      await other.dispose();
    }
  });
});

/**
 * A fake keytar whose keychain passes the check before the browser opens (its first write), then locks:
 * as the login keyring does at screen lock while the person is in the browser. Reads answer nothing and
 * every later write is refused, as a locked Secret Service's are.
 */
function keytarLockedAfterCheck(): KeytarLike {
  let writes = 0;
  return {
    getPassword: async () => null,
    setPassword: async () => {
      writes += 1;
      if (writes > 1) throw new Error('Cannot create an item in a locked collection');
    },
    deletePassword: async () => false,
  };
}

describe('signed out while a sign-in through the browser stores its session', () => {
  it('the sign-in ends cancelled, the keychain keeps nothing, and neither its session nor the one it signed in over stays valid at the hub', async () => {
    const main = desktopMain(memoryKeychain());
    await main.signInThroughTheBrowser();
    const save = main.keychain.save;
    let signedOut: Promise<unknown> = Promise.resolve();
    main.keychain.save = async (hubUrl, credential) => {
      // Not awaited here: the sign-out's own keychain change waits for this sign-in's to end.
      signedOut = main.connection.signOut();
      await save(hubUrl, credential);
    };
    await expect(main.signInThroughTheBrowser()).rejects.toMatchObject({ code: 'CANCELLED' });
    await signedOut;
    expect(main.connection.session).toMatchObject({ signedIn: false, state: 'signed-out' });
    expect([...main.keychain.entries]).toEqual([]);
    await main.connection.errands.settled();
    expect(main.issued).toHaveLength(2);
    for (const token of main.issued) expect(await works(token)).toBe(false);
  });
});

describe('a sign-in through the browser that fails after main took its session on', () => {
  it('settings that cannot be written once the keychain kept the session: main stays connected with it, and it is not ended at the hub', async () => {
    const { settings } = memorySettings();
    const unwritable: HubConnectionDeps['settings'] = {
      get: (key) => settings.get(key),
      set: () => {
        throw new Error('settings file is read-only');
      },
    };
    const main = desktopMain(memoryKeychain(), { settings: unwritable });
    await expect(main.signInThroughTheBrowser()).rejects.toThrow('settings file is read-only');
    const token = main.issued[0] ?? '';
    expect(main.connection.session).toMatchObject({ signedIn: true, state: 'connected' });
    expect(await main.keychain.read(hub.url)).toEqual({ token, kind: 'sso' });
    await main.connection.errands.settled();
    expect(await works(token)).toBe(true);
  });
});

describe('a sign-in through the browser whose session no keychain can keep', () => {
  it('no OS keychain at all: fails at once with the reason shown, before any browser opens, and the hub starts no session', async () => {
    const sessionsStarted = async () => (await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=session.started', ADMIN_TOKEN)).body.events.length;
    const before = await sessionsStarted();
    const opened: string[] = [];
    const main = desktopMain(createKeychain(null));
    // A browser stand-in that goes no further than being asked to open, so the sign-in ends at once if it is.
    const openExternal = async (url: string) => {
      opened.push(url);
      throw new Error('the browser was opened');
    };
    const failed = await signInThroughBrowser({ connection: main.connection, openExternal, errands: main.connection.errands }, hub.url, new AbortController().signal).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('No OS keychain is available') });
    expect(opened).toEqual([]);
    expect(main.connection.session).toMatchObject({ hubUrl: null, signedIn: false, state: 'signed-out', error: { code: 'UNAVAILABLE' } });
    expect(main.events.at(-1)).toEqual({ type: 'state', session: main.connection.session });
    await main.connection.errands.settled();
    expect(await sessionsStarted()).toBe(before);
  });

  it('a keychain locked while the person was in the browser (a fake keytar): signed out with the reason shown, and the session the hub issued is ended there', async () => {
    const main = desktopMain(createKeychain(keytarLockedAfterCheck()));
    const failed = await main.signInThroughTheBrowser().then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('keychain is locked') });
    expect(main.connection.session).toMatchObject({ hubUrl: null, signedIn: false, state: 'signed-out', error: { code: 'UNAVAILABLE' } });
    expect(main.events.at(-1)).toEqual({ type: 'state', session: main.connection.session });
    expect(main.issued).toHaveLength(1);
    await main.connection.errands.settled();
    expect(await works(main.issued[0] ?? '')).toBe(false);
  });

  it('a single sign-on session kept for this run only (no keychain, at launch) is still ended at the hub at sign-out', async () => {
    const session = await signInWithBrowser({ hubUrl: hub.url, openExternal: sso.browser(), timeoutMs: 30_000 });
    const main = desktopMain(createKeychain(null));
    expect(await main.connection.signIn(hub.url, session.token, { kind: 'sso', keychain: 'if-available' })).toMatchObject({ signedIn: true, state: 'connected', error: { code: 'UNAVAILABLE' } });
    expect(await works(session.token)).toBe(true);

    expect(await main.connection.signOut()).toMatchObject({ signedIn: false, state: 'signed-out' });
    await main.connection.errands.settled();
    expect(await works(session.token)).toBe(false);
  });
});
