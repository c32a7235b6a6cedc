import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HubConnection } from '../electron/hub-connection.js';
import { HubErrands } from '../electron/hub-errands.js';
import { createIpcHandlers, type IpcHandlerDeps } from '../electron/ipc-handlers.js';
import { registerIpc, trustedSender } from '../electron/ipc.js';
import { signInWithBrowser } from '../electron/oidc-loopback.js';
import { FakeIpcMain, FakeWebContents } from '../electron/test/electron-fakes.js';
import { revokesHeld } from '../electron/test/held-revokes.js';
import { memoryKeychain, memorySettings } from '../electron/test/memory.js';
import type { DesktopEvent } from '../protocol/desktop-api.js';
import { GreenlightError } from '../protocol/errors.js';
import { HubClient } from '../protocol/hub-client.js';
import { ADMIN_TOKEN, TestHub } from '../server/test-support/hub-fixture.js';
import type { TestOidcProvider } from '../server/test-support/oidc-provider.js';
import { BOB, startSingleSignOnHub, type SingleSignOnHub } from '../server/test-support/single-sign-on-hub.js';

let sso: SingleSignOnHub;
let provider: TestOidcProvider;
let hub: TestHub;
const connections: HubConnection[] = [];

/** A fetch for the app that records which codes it trades at the hub, so a refused code is seen never to leave the app. */
function recordedTrades() {
  const codes: string[] = [];
  const recording: typeof fetch = (input, init) => {
    if (String(input).endsWith('/auth/oidc/desktop/token')) codes.push((JSON.parse(String(init?.body)) as { code: string }).code);
    return fetch(input, init);
  };
  return { codes, fetch: recording };
}

const isTrade = (input: Parameters<typeof fetch>[0]) => String(input).endsWith('/auth/oidc/desktop/token');

/** The app's fetch, as is, except that `whenSent` runs as the code leaves for the hub; `issued` is the session token the hub answered with. */
function tradeWatched(whenSent: () => void) {
  let answered: Promise<string> = Promise.reject(new Error('no code was traded'));
  answered.catch(() => undefined);
  const watching: typeof fetch = (input, init) => {
    if (!isTrade(input)) return fetch(input, init);
    whenSent();
    const sent = fetch(input, init);
    answered = sent.then(async (answer) => ((await answer.clone().json()) as { token: string }).token);
    return sent;
  };
  return { fetch: watching, issued: () => answered };
}

/**
 * The hub's real answer to the code trade, held at the app's fetch (a stand-in at the edge only): the hub
 * has issued the session and answered, and `beforeDelivery` (the person's Cancel) runs before the app sees it.
 */
function tradeHeldUntil(beforeDelivery: () => void) {
  let answered: Promise<string> = Promise.reject(new Error('no code was traded'));
  answered.catch(() => undefined);
  const holding: typeof fetch = async (input, init) => {
    if (!isTrade(input)) return fetch(input, init);
    const real = await fetch(input, init);
    const text = await real.text();
    answered = Promise.resolve((JSON.parse(text) as { token: string }).token);
    beforeDelivery();
    return new Response(text, { status: real.status, headers: real.headers });
  };
  return { fetch: holding, issued: () => answered };
}

/**
 * The hub's real answer to the code trade, held at the app's fetch (a stand-in at the edge only) until
 * `deliver` is called; `happened` records when the app gave up waiting for it.
 */
function tradeHeldForTheTest(onSent: () => void, happened: string[]) {
  let deliver: () => void = () => undefined;
  const delivered = new Promise<void>((resolve) => (deliver = resolve));
  let answered: Promise<string> = Promise.reject(new Error('no code was traded'));
  answered.catch(() => undefined);
  const holding: typeof fetch = async (input, init) => {
    if (!isTrade(input)) return fetch(input, init);
    const real = await fetch(input, init);
    const text = await real.text();
    answered = Promise.resolve((JSON.parse(text) as { token: string }).token);
    onSent();
    const gaveUp = new Promise<never>((_, reject) =>
      init?.signal?.addEventListener('abort', () => {
        happened.push('the app gave up on the hub’s answer');
        reject(new Error('aborted'));
      }),
    );
    await Promise.race([delivered, gaveUp]);
    happened.push('the hub’s answer delivered');
    return new Response(text, { status: real.status, headers: real.headers });
  };
  return { fetch: holding, issued: () => answered, deliver };
}

/** A stand-in hub connection that records the tokens it is handed and signs in with each at once. */
function recordingConnection(): { connection: IpcHandlerDeps['connection']; signedInWith: string[] } {
  const signedInWith: string[] = [];
  const notUsed = (): never => {
    throw new Error('not used in this test');
  };
  const signIn = async (hubUrl: string, token: string) => {
    signedInWith.push(token);
    return { hubUrl, signedIn: true, state: 'connected' as const, error: null };
  };
  return { signedInWith, connection: { session: { hubUrl: null, signedIn: false, state: 'signed-out', error: null }, signIn, signOut: notUsed, dismissSignOutNote: notUsed, hub: notUsed, holds: () => false, ensureKeychain: async () => undefined } };
}

/** The desktop app's main process as the window reaches it over IPC, signing in through `openExternal`; the rest is not used. */
function desktopMain(openExternal: (url: string) => Promise<void>, connection: IpcHandlerDeps['connection'], fetchImpl?: typeof fetch, errands?: HubErrands) {
  const ipcMain = new FakeIpcMain();
  const page = { contents: new FakeWebContents(), url: 'app://greenlight/index.html' };
  const notUsed = (): never => {
    throw new Error('not used in this test');
  };
  registerIpc({
    ipcMain,
    isTrustedSender: trustedSender((sender) => sender.id === page.contents.id),
    handlers: createIpcHandlers({
      connection,
      hubHttp: { revokeGrant: notUsed, extendGrant: notUsed, audit: notUsed, decisionReport: notUsed, listUsers: notUsed, createUser: notUsed, updateUser: notUsed, disableUser: notUsed, enableUser: notUsed, setupStatus: notUsed, myChannels: notUsed, explainPolicy: notUsed, listDelegations: notUsed, createDelegation: notUsed, endDelegation: notUsed, listTokens: notUsed, createToken: notUsed, revokeToken: notUsed },
      desktopSettings: { current: notUsed, update: notUsed },
      exportAudit: notUsed,
      openExternal,
      rendererReady: () => undefined,
      fetch: fetchImpl,
      errands,
    }),
  });
  return {
    signInWithBrowser: (hubUrl: string) => ipcMain.invoke('greenlight:signInWithBrowser', page, { hubUrl }),
    signIn: (hubUrl: string, token: string) => ipcMain.invoke('greenlight:signIn', page, { hubUrl, token }),
    cancelSignInWithBrowser: () => ipcMain.invoke('greenlight:cancelSignInWithBrowser', page, undefined),
  };
}

/** Main with the stand-in connection, and the tokens it was handed. */
function recordingMain(openExternal: (url: string) => Promise<void>) {
  const { connection, signedInWith } = recordingConnection();
  return { ...desktopMain(openExternal, connection), signedInWith };
}

/**
 * Main with its real hub connection (a real client over a real socket; an in-memory keychain), the
 * tokens it connected with, and what it told the window. `whileFirstConnecting` runs once main has
 * opened its first connection, before the hub has answered it.
 */
function connectedMain(openExternal: (url: string) => Promise<void>, whileFirstConnecting: (main: DesktopMain) => Promise<unknown>, fetchImpl?: typeof fetch) {
  const keychain = memoryKeychain();
  const connectedWith: string[] = [];
  let acted: Promise<unknown> | undefined;
  const connection: HubConnection = new HubConnection({
    createClient: (options) => {
      connectedWith.push(options.token);
      if (!acted) acted = new Promise((resolve) => queueMicrotask(() => resolve(whileFirstConnecting(main))));
      return new HubClient({ ...options, forceNew: true });
    },
    keychain,
    settings: memorySettings().settings,
  });
  connections.push(connection);
  const events: DesktopEvent[] = [];
  connection.subscribe((event) => events.push(event));
  const main = desktopMain(openExternal, connection, fetchImpl, connection.errands);
  return { ...main, connection, keychain, connectedWith, events, acted: () => acted };
}
type DesktopMain = ReturnType<typeof desktopMain>;

/** A browser that opens the hub's sign-in and goes no further (the person is still at the identity provider, or closed the tab). */
function stalledBrowser() {
  let opened: (url: string) => void = () => undefined;
  const url = new Promise<string>((resolve) => (opened = resolve));
  return { url, openExternal: async (login: string) => opened(login) };
}

const loopbackOf = (login: string) => new URL(login).searchParams.get('desktop') ?? '';

beforeAll(async () => {
  sso = await startSingleSignOnHub();
  ({ hub, provider } = sso);
});
afterAll(async () => {
  for (const connection of connections) connection.close();
  await sso?.dispose();
});

describe('desktop single sign-on through the system browser and a loopback address (RFC 8252)', () => {
  it('opens the hub’s sign-in with a loopback redirect and a PKCE challenge, and comes back with a session token', async () => {
    const seen: string[] = [];
    const session = await signInWithBrowser({ hubUrl: hub.url, openExternal: sso.browser(BOB, seen), timeoutMs: 30_000 });
    const opened = new URL(seen[0] ?? '');
    expect(opened.origin + opened.pathname).toBe(`${hub.url}/auth/oidc/login`);
    expect(opened.searchParams.get('desktop')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(opened.searchParams.get('challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const state = opened.searchParams.get('state');
    expect(state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const back = new URL(seen[1] ?? '');
    expect(back.origin + back.pathname).toBe(opened.searchParams.get('desktop'));
    expect(back.searchParams.get('state')).toBe(state);
    expect(session.user).toBe('bob');
    const me = await hub.api<{ name: string; roles: string[]; tokenKind: string }>('GET', '/api/v1/me', session.token);
    expect(me.body).toMatchObject({ name: 'bob', roles: ['requester', 'approver'], tokenKind: 'session' });
  });

  it('the one-time code is useless without the app’s verifier, and works only once', async () => {
    const sessions = async () => (await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=session.started', ADMIN_TOKEN)).body.events.length;
    const before = await sessions();
    let code = '';
    const stealing = async (url: string) => {
      const { callback, hubCookie } = await provider.signIn(url, BOB);
      const back = await fetch(callback, { redirect: 'manual', headers: { cookie: hubCookie } });
      const loopback = new URL(back.headers.get('location') ?? '');
      code = loopback.searchParams.get('code') ?? '';
      const wrong = await hub.api<{ error: { code: string } }>('POST', '/auth/oidc/desktop/token', null, { code, verifier: 'x'.repeat(43) });
      expect(wrong.status).toBe(401);
      await fetch(loopback);
    };
    await expect(signInWithBrowser({ hubUrl: hub.url, openExternal: stealing, timeoutMs: 30_000 })).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('not valid') });
    expect(code).not.toBe('');
    expect(await sessions()).toBe(before);
  });

  it('a stray request to its loopback address, with no state, a guessed one or none at all, is refused and the real redirect after it still signs in', async () => {
    const traded = recordedTrades();
    const strays: { status: number; text: string }[] = [];
    const seen: string[] = [];
    const strayFirst = async (url: string) => {
      const desktop = new URL(url).searchParams.get('desktop') ?? '';
      // A page elsewhere sends the browser to the port with a code of its own, with no state or a guessed one; the browser asks for an icon.
      for (const stray of [desktop, `${desktop}?code=a-code-from-elsewhere`, `${desktop}?code=a-code-from-elsewhere&state=${'A'.repeat(43)}`, `${new URL(desktop).origin}/favicon.ico`]) {
        const answer = await fetch(stray);
        strays.push({ status: answer.status, text: await answer.text() });
      }
      await sso.browser(BOB, seen)(url);
    };
    const session = await signInWithBrowser({ hubUrl: hub.url, openExternal: strayFirst, fetch: traded.fetch, timeoutMs: 30_000 });
    expect(session.user).toBe('bob');
    expect(strays.map((stray) => stray.status)).toEqual([400, 400, 400, 404]);
    for (const refused of strays.slice(0, 3)) expect(refused.text).toContain('was not started by the Greenlight app on this computer, so it was refused');
    // Only the hub's own code left the app.
    const realCode = new URL(seen[1] ?? '').searchParams.get('code');
    expect(traded.codes).toEqual([realCode]);
    // Signed in, the app no longer listens.
    await expect(fetch(seen[1] ?? '')).rejects.toThrow();
  });

  it('a flood of redirects with a wrong state is refused while the sign-in keeps waiting for its own', async () => {
    const seen: string[] = [];
    const refusals: number[] = [];
    const flooded = async (url: string) => {
      const desktop = new URL(url).searchParams.get('desktop') ?? '';
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => fetch(`${desktop}?code=c${i}&state=${'B'.repeat(43)}`)));
      refusals.push(...answers.map((answer) => answer.status));
      await sso.browser(BOB, seen)(url);
    };
    const session = await signInWithBrowser({ hubUrl: hub.url, openExternal: flooded, timeoutMs: 30_000 });
    expect(session.user).toBe('bob');
    expect(refusals).toEqual(Array.from({ length: 200 }, () => 400));
  });

  it('when only redirects without its state come, only the timeout ends the sign-in, saying they were refused, and no code is traded', async () => {
    const traded = recordedTrades();
    const sessions = async () => (await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=session.started', ADMIN_TOKEN)).body.events.length;
    const before = await sessions();
    // The hub's own redirect with its state taken off (a real code), then one with a guessed state.
    let stripped = '';
    const withoutState = async (url: string) => {
      const { callback, hubCookie } = await provider.signIn(url, BOB);
      const back = await fetch(callback, { redirect: 'manual', headers: { cookie: hubCookie } });
      const loopback = new URL(back.headers.get('location') ?? '');
      loopback.searchParams.delete('state');
      stripped = loopback.href;
      expect((await fetch(loopback)).status).toBe(400);
      loopback.searchParams.set('state', 'C'.repeat(43));
      expect((await fetch(loopback)).status).toBe(400);
    };
    const failed = await signInWithBrowser({ hubUrl: hub.url, openExternal: withoutState, fetch: traded.fetch, timeoutMs: 1_000 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(GreenlightError);
    expect((failed as GreenlightError).toWire()).toEqual({
      code: 'TIMEOUT',
      message:
        'Sign-in was not finished in the browser within 1 s. Meanwhile 2 sign-ins this app did not start came to it (likely from another page or program on this computer) and were refused. Try again.',
    });
    expect(new URL(stripped).searchParams.get('code')).not.toBe(null);
    expect(traded.codes).toEqual([]);
    expect(await sessions()).toBe(before);
    // Timed out, the app no longer listens.
    await expect(fetch(stripped)).rejects.toThrow();
  });

  it('a cancel ends the wait at once with CANCELLED and closes the port, so the hub’s redirect that comes after is never traded', async () => {
    const traded = recordedTrades();
    const sessions = async () => (await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=session.started', ADMIN_TOKEN)).body.events.length;
    const before = await sessions();
    const browser = stalledBrowser();
    const cancel = new AbortController();
    const waiting = signInWithBrowser({ hubUrl: hub.url, openExternal: browser.openExternal, fetch: traded.fetch, signal: cancel.signal, timeoutMs: 5_000 }).then(
      () => null,
      (error: unknown) => error,
    );
    const login = await browser.url;
    const loopback = loopbackOf(login);
    // Still waiting: the port answers (and refuses a sign-in it did not start).
    expect((await fetch(`${loopback}?code=c&state=${'D'.repeat(43)}`)).status).toBe(400);
    const cancelledAt = Date.now();
    cancel.abort();
    const failed = await waiting;
    expect(Date.now() - cancelledAt).toBeLessThan(1_000);
    expect(failed).toBeInstanceOf(GreenlightError);
    expect((failed as GreenlightError).toWire()).toEqual({ code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' });
    await expect(fetch(loopback)).rejects.toThrow();
    // The person finishes at the identity provider anyway: the hub sends the browser back to a port nobody listens on.
    const { callback, hubCookie } = await provider.signIn(login, BOB);
    const back = await fetch(callback, { redirect: 'manual', headers: { cookie: hubCookie } });
    expect(back.headers.get('location')).toMatch(new RegExp(`^${loopback}\\?`));
    await expect(fetch(back.headers.get('location') ?? '')).rejects.toThrow();
    expect(traded.codes).toEqual([]);
    expect(await sessions()).toBe(before);
  });

  it('a cancel just as the app sends the code to the hub: the sign-in ends CANCELLED, and the session the hub issues for that code is revoked', async () => {
    const cancel = new AbortController();
    const trade = tradeWatched(() => cancel.abort());
    const errands = new HubErrands();
    const failed = await signInWithBrowser({ hubUrl: hub.url, openExternal: sso.browser(), fetch: trade.fetch, signal: cancel.signal, timeoutMs: 30_000, errands }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(GreenlightError);
    expect((failed as GreenlightError).toWire()).toEqual({ code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' });
    await errands.settled();
    const issued = await trade.issued();
    expect(issued).toMatch(/^glt_/);
    expect((await hub.api('GET', '/api/v1/me', issued)).status).toBe(401);
  });

  it('a cancel after the hub issued the session but before its answer reached the app (the hub’s answer held at the app’s fetch, a stand-in at the edge): CANCELLED, and that session is revoked', async () => {
    const cancel = new AbortController();
    const trade = tradeHeldUntil(() => cancel.abort());
    const errands = new HubErrands();
    const failed = await signInWithBrowser({ hubUrl: hub.url, openExternal: sso.browser(), fetch: trade.fetch, signal: cancel.signal, timeoutMs: 30_000, errands }).then(
      () => null,
      (error: unknown) => error,
    );
    expect((failed as GreenlightError).toWire()).toEqual({ code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' });
    await errands.settled();
    const issued = await trade.issued();
    expect((await hub.api('GET', '/api/v1/me', issued)).status).toBe(401);
  });

  it('a cancel answers at once, while the hub’s answer to the code is still on its way (held at the app’s fetch, a stand-in at the edge); the session that answer brings is revoked afterwards', async () => {
    const cancel = new AbortController();
    const happened: string[] = [];
    const trade = tradeHeldForTheTest(() => cancel.abort(), happened);
    const errands = new HubErrands();
    const failed = await signInWithBrowser({ hubUrl: hub.url, openExternal: sso.browser(), fetch: trade.fetch, signal: cancel.signal, timeoutMs: 30_000, errands }).then(
      () => null,
      (error: unknown) => error,
    );
    happened.push('the sign-in ended');
    expect(failed).toMatchObject({ code: 'CANCELLED' });
    expect(happened).toEqual(['the sign-in ended']);
    const issued = await trade.issued();
    expect((await hub.api('GET', '/api/v1/me', issued)).status).toBe(200);

    trade.deliver();
    await errands.settled();
    expect(happened).toEqual(['the sign-in ended', 'the hub’s answer delivered']);
    expect((await hub.api('GET', '/api/v1/me', issued)).status).toBe(401);
  });

  it('a cancelled trade the hub never answers (a stand-in token endpoint at the app’s fetch) ends CANCELLED, and the app stops waiting for the answer once its wait runs out, saying so', async () => {
    const cancel = new AbortController();
    const silentTrade: typeof fetch = (input, init) => {
      if (!String(input).endsWith('/auth/oidc/desktop/token')) return fetch(input, init);
      cancel.abort();
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    };
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const errands = new HubErrands();
      const failed = await signInWithBrowser({ hubUrl: hub.url, openExternal: sso.browser(), fetch: silentTrade, signal: cancel.signal, timeoutMs: 30_000, answerAfterCancelMs: 50, errands }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(failed).toMatchObject({ code: 'CANCELLED' });
      await errands.settled();
      expect(warned).toHaveBeenCalledWith(expect.stringContaining('no answer within 50 ms'));
    } finally {
      warned.mockRestore();
    }
  });

  it('over IPC, Cancel after the hub issued the session but before its answer reached the app: not signed in, nothing in the keychain, never connected, and that session is revoked', async () => {
    let cancelled: Promise<unknown> = Promise.resolve();
    // Not awaited in the fetch: the cancel resolves only once this sign-in has ended and undone what it did.
    const trade = tradeHeldUntil(() => void (cancelled = main.cancelSignInWithBrowser()));
    const main = connectedMain(sso.browser(), async () => undefined, trade.fetch);
    const result = await main.signInWithBrowser(hub.url);
    expect(result).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    expect(await cancelled).toEqual({ data: true });
    expect(main.connection.session).toEqual({ hubUrl: null, signedIn: false, state: 'signed-out', error: null });
    expect([...main.keychain.entries]).toEqual([]);
    expect(main.connectedWith).toEqual([]);
    await main.connection.errands.settled();
    expect((await hub.api('GET', '/api/v1/me', await trade.issued())).status).toBe(401);
  });

  it('over IPC, Cancel while the hub’s answer to the code is still on its way (held at the app’s fetch, a stand-in at the edge): Cancel and the sign-in answer at once, and that session is revoked once the answer comes', async () => {
    const happened: string[] = [];
    let cancelled: Promise<unknown> = Promise.resolve();
    const trade = tradeHeldForTheTest(() => void (cancelled = main.cancelSignInWithBrowser().then((result) => happened.push('Cancel answered') && result)), happened);
    const main = connectedMain(sso.browser(), async () => undefined, trade.fetch);
    const result = await main.signInWithBrowser(hub.url);
    expect(await cancelled).toEqual({ data: true });
    happened.push('the sign-in answered');
    expect(result).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    expect(happened).toEqual(['Cancel answered', 'the sign-in answered']);
    expect(main.connection.session).toEqual({ hubUrl: null, signedIn: false, state: 'signed-out', error: null });

    trade.deliver();
    await main.connection.errands.settled();
    expect(happened).toEqual(['Cancel answered', 'the sign-in answered', 'the hub’s answer delivered']);
    expect(main.connectedWith).toEqual([]);
    expect([...main.keychain.entries]).toEqual([]);
    expect((await hub.api('GET', '/api/v1/me', await trade.issued())).status).toBe(401);
  });

  it('a sign-in cancelled before it starts opens no browser', async () => {
    const opened: string[] = [];
    const failed = await signInWithBrowser({ hubUrl: hub.url, openExternal: async (url) => void opened.push(url), signal: AbortSignal.abort(), timeoutMs: 5_000 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({ code: 'CANCELLED' });
    expect(opened).toEqual([]);
  });

  it('over IPC, Cancel ends the waiting sign-in with CANCELLED and closes its port, and says whether one was waiting', async () => {
    const browser = stalledBrowser();
    const main = recordingMain(browser.openExternal);
    const waiting = main.signInWithBrowser(hub.url);
    const loopback = loopbackOf(await browser.url);
    expect(await main.cancelSignInWithBrowser()).toEqual({ data: true });
    expect(await waiting).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    await expect(fetch(loopback)).rejects.toThrow();
    expect(await main.cancelSignInWithBrowser()).toEqual({ data: false });
    expect(main.signedInWith).toEqual([]);
  });

  it('over IPC, starting a second sign-in through the browser cancels the one waiting, and the second signs in', async () => {
    const first = stalledBrowser();
    const seen: string[] = [];
    const browsers = [first.openExternal, sso.browser(BOB, seen)];
    const main = recordingMain(async (url) => browsers.shift()?.(url));
    const firstWait = main.signInWithBrowser(hub.url);
    const firstLoopback = loopbackOf(await first.url);
    const second = await main.signInWithBrowser(hub.url);
    expect(second).toEqual({ data: { hubUrl: hub.url, signedIn: true, state: 'connected', error: null } });
    // Already settled by now, it wins the race; still waiting, the marker does.
    expect(await Promise.race([firstWait, 'still waiting'])).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    await expect(fetch(firstLoopback)).rejects.toThrow();
    expect(loopbackOf(seen[0] ?? '')).not.toBe(firstLoopback);
    expect(main.signedInWith).toHaveLength(1);
    const me = await hub.api<{ name: string }>('GET', '/api/v1/me', main.signedInWith[0] ?? '');
    expect(me.body).toMatchObject({ name: 'bob' });
  });

  it('over IPC, signing in with a token cancels a sign-in waiting for the browser, so the browser cannot replace it later', async () => {
    const browser = stalledBrowser();
    const main = recordingMain(browser.openExternal);
    const waiting = main.signInWithBrowser(hub.url);
    const loopback = loopbackOf(await browser.url);
    expect(await main.signIn(hub.url, ADMIN_TOKEN)).toMatchObject({ data: { signedIn: true } });
    expect(await waiting).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    await expect(fetch(loopback)).rejects.toThrow();
    expect(main.signedInWith).toEqual([ADMIN_TOKEN]);
  });

  it('over IPC, Cancel while main connects to the hub with the new session: not signed in, the window told so, nothing in the keychain, and that session no longer works', async () => {
    const main = connectedMain(sso.browser(), (app) => app.cancelSignInWithBrowser());
    const result = await main.signInWithBrowser(hub.url);
    expect(await main.acted()).toEqual({ data: true });
    expect(result).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    expect(main.connection.session).toEqual({ hubUrl: null, signedIn: false, state: 'signed-out', error: null });
    expect(main.events.filter((event) => event.type === 'state').at(-1)).toEqual({ type: 'state', session: main.connection.session });
    expect([...main.keychain.entries]).toEqual([]);
    // The hub had issued bob a session for this sign-in; nobody keeps it, so it is revoked.
    expect(main.connectedWith).toHaveLength(1);
    await main.connection.errands.settled();
    expect((await hub.api('GET', '/api/v1/me', main.connectedWith[0] ?? '')).status).toBe(401);
  });

  it('over IPC, Cancel while main connects to the hub with the new session answers before that session is revoked (the revoke held at the app’s fetch, a stand-in at the edge), which it is afterwards', async () => {
    const happened: string[] = [];
    const held = revokesHeld(happened);
    const main = connectedMain(sso.browser(), (app) => app.cancelSignInWithBrowser().then((result) => happened.push('Cancel answered') && result), held.fetch);
    const result = await main.signInWithBrowser(hub.url);
    expect(await main.acted()).toEqual({ data: true });
    expect(result).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    expect([...main.keychain.entries]).toEqual([]);

    held.release();
    await main.connection.errands.settled();
    expect(happened).toEqual(['Cancel answered', 'revoke sent']);
    expect((await hub.api('GET', '/api/v1/me', main.connectedWith[0] ?? '')).status).toBe(401);
  });

  it('over IPC, signing in with a token while main connects with the browser’s session: the token’s session wins in main and in the keychain, and the browser’s is revoked', async () => {
    const main = connectedMain(sso.browser(), (app) => app.signIn(hub.url, ADMIN_TOKEN));
    const browserResult = await main.signInWithBrowser(hub.url);
    expect(await main.acted()).toEqual({ data: { hubUrl: hub.url, signedIn: true, state: 'connected', error: null } });
    expect(browserResult).toEqual({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } });
    expect(main.connection.session).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(main.connection.auth.token).toBe(ADMIN_TOKEN);
    expect(main.connection.me?.name).toBe('admin');
    expect([...main.keychain.entries]).toEqual([[hub.url, { token: ADMIN_TOKEN, kind: 'pasted' }]]);
    const [browserSession, tokenSession] = main.connectedWith;
    expect(tokenSession).toBe(ADMIN_TOKEN);
    await main.connection.errands.settled();
    expect((await hub.api('GET', '/api/v1/me', browserSession ?? '')).status).toBe(401);
  });

  it('says so, without opening a browser, when the hub has no single sign-on', async () => {
    const plain = new TestHub('sqlite');
    await plain.start();
    const opened: string[] = [];
    try {
      await expect(signInWithBrowser({ hubUrl: plain.url, openExternal: async (url) => void opened.push(url) })).rejects.toMatchObject({ code: 'NO_SINGLE_SIGN_ON', message: expect.stringContaining('has no single sign-on set up') });
      expect(opened).toEqual([]);
    } finally {
      await plain.dispose();
    }
  });

  it('gives up with a clear message when the browser never comes back', async () => {
    await expect(signInWithBrowser({ hubUrl: hub.url, openExternal: async () => undefined, timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('not finished in the browser') });
  });

  it('refuses up front, without opening a browser, at a hub too old to hand the app its state back', async () => {
    const info = await (await fetch(`${hub.url}/auth/oidc/info`)).json();
    expect(info).toMatchObject({ enabled: true, checksDesktopState: true });
    // A hub from before the desktop state: single sign-on on, but its login refuses an address with a state.
    const olderHub: typeof fetch = async (input, init) =>
      String(input).endsWith('/auth/oidc/info') ? Response.json({ enabled: true, name: 'Test IdP' }) : fetch(input, init);
    const opened: string[] = [];
    const failed = await signInWithBrowser({ hubUrl: hub.url, openExternal: async (url) => void opened.push(url), fetch: olderHub, timeoutMs: 5_000 }).then(() => null, (error: unknown) => error);
    expect(failed).toBeInstanceOf(GreenlightError);
    expect((failed as GreenlightError).toWire()).toEqual({
      code: 'HUB_TOO_OLD',
      message: `The hub at ${hub.url} is older than this app, and single sign-on from this app needs the hub updated to this app's version. Ask an admin to update it; until then, sign in with a token.`,
    });
    expect(opened).toEqual([]);
  });

  it('tells the window, with a code and a plain sentence, when the hub sends the browser back without a sign-in code', async () => {
    let page: { status: number; text: string } | undefined;
    const withoutCode = async (url: string) => {
      const { callback, hubCookie } = await provider.signIn(url, BOB);
      const back = await fetch(callback, { redirect: 'manual', headers: { cookie: hubCookie } });
      const loopback = new URL(back.headers.get('location') ?? '');
      loopback.searchParams.delete('code');
      const answer = await fetch(loopback);
      page = { status: answer.status, text: await answer.text() };
    };
    expect(await recordingMain(withoutCode).signInWithBrowser(hub.url)).toEqual({
      error: { code: 'SIGN_IN_INCOMPLETE', message: 'The hub sent the browser back without a sign-in code. Start sign-in again.' },
    });
    expect(page?.status).toBe(400);
    expect(page?.text).toContain('The hub sent the browser back without a sign-in code, so nothing was signed in.');
  });
});
