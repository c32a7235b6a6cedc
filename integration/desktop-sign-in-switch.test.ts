import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInThroughBrowser } from '../electron/browser-sign-in-attempt.js';
import { HubConnection } from '../electron/hub-connection.js';
import type { Keychain, StoredCredential } from '../electron/keychain.js';
import { noSecretService, realKeychain } from '../electron/test/real-keychain.js';
import { memorySettings } from '../electron/test/memory.js';
import type { DesktopEvent } from '../protocol/desktop-api.js';
import { HubClient } from '../protocol/hub-client.js';
import type { GreenlightRequest } from '../protocol/request.js';
import { deployRequest, type TestHub } from '../server/test-support/hub-fixture.js';
import { eventually } from '../server/test-support/eventually.js';
import { freePort } from '../server/test-support/hub-process.js';
import { startSingleSignOnHub, type SingleSignOnHub } from '../server/test-support/single-sign-on-hub.js';

/**
 * Main switches to a new sign-in only once it succeeded: one that fails, is cancelled or is overtaken
 * leaves the person signed in as before, with the keychain (the OS's own, over a private Secret Service)
 * as it was, and no entry there for a session the hub no longer takes.
 */
let sso: SingleSignOnHub;
let hub: TestHub;
const connections: HubConnection[] = [];
const skipReason = `skipped when no Secret Service is reachable: ${noSecretService ?? 'reachable'}`;

/** The OS keychain, with a step the test runs as each token is saved, after saving it. */
function keychainWatched(afterSave: (credential: StoredCredential) => Promise<void>): Keychain {
  const keychain = realKeychain();
  return {
    check: () => keychain.check(),
    read: (hubUrl) => keychain.read(hubUrl),
    remove: (hubUrl) => keychain.remove(hubUrl),
    save: async (hubUrl, credential) => {
      await keychain.save(hubUrl, credential);
      await afterSave(credential);
    },
  };
}

/** Main's hub connection over real sockets; the session tokens the hub's code trades answered with; the tokens main connected with. */
function desktopMain(keychain: Keychain) {
  const issued: string[] = [];
  const connectedWith: string[] = [];
  const noting: typeof fetch = async (input, init) => {
    const answer = await fetch(input, init);
    if (String(input).endsWith('/auth/oidc/desktop/token') && answer.ok) issued.push(((await answer.clone().json()) as { token: string }).token);
    return answer;
  };
  const connection = new HubConnection({
    createClient: (options) => {
      connectedWith.push(options.token);
      return new HubClient({ ...options, forceNew: true });
    },
    keychain,
    settings: memorySettings().settings,
    fetch: noting,
  });
  connections.push(connection);
  const events: DesktopEvent[] = [];
  connection.subscribe((event) => events.push(event));
  const signInThroughTheBrowser = (signal: AbortSignal) => signInThroughBrowser({ connection, openExternal: sso.browser(), fetch: noting, errands: connection.errands }, hub.url, signal);
  return { connection, keychain, events, issued, connectedWith, signInThroughTheBrowser };
}

/** Whether the hub still takes the token. */
const works = async (token: string) => (await hub.api('GET', '/api/v1/me', token)).status === 200;

/** Whether main, as it is, hears of a request submitted now that waits on it. */
async function hearsOfNewRequest(main: ReturnType<typeof desktopMain>, requester: string): Promise<boolean> {
  const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', requester, deployRequest({ reason: `heard after a failed sign-in ${Math.random()}` }));
  expect(created.status).toBe(201);
  const heard = () => main.events.some((event) => event.type === 'request:created' && event.request.id === created.body.id);
  await eventually(heard, { what: 'main to hear of the new request', deadline: 5_000, every: 20 }).catch(() => false);
  return heard() && main.connection.inbox.some((request) => request.id === created.body.id);
}

beforeAll(async () => {
  sso = await startSingleSignOnHub();
  ({ hub } = sso);
});
afterAll(async () => {
  for (const connection of connections) connection.close();
  await realKeychain().remove(hub.url).catch(() => false);
  await sso?.dispose();
});

describe.skipIf(noSecretService !== null)(`a new sign-in that fails leaves main signed in as before (${skipReason})`, () => {
  it('a token the hub refuses, then a hub that cannot be reached: still connected, still told of new requests, and the keychain entry as it was', async () => {
    const carol = await hub.createUser('carol', ['approver'], ['sre', 'approvers']);
    const alice = await hub.createUser('alice', ['requester'], ['dev']);
    const main = desktopMain(realKeychain());
    await main.connection.signIn(hub.url, carol.token);

    await expect(main.connection.signIn(hub.url, 'glt_not_a_token_of_this_hub')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(main.connection.session).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(main.connection.me?.name).toBe('carol');
    expect(await main.keychain.read(hub.url)).toEqual({ token: carol.token, kind: 'pasted' });
    expect(await hearsOfNewRequest(main, alice.token)).toBe(true);

    const down = `http://127.0.0.1:${await freePort()}`;
    await expect(main.connection.signIn(down, carol.token)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(main.connection.session).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(await main.keychain.read(hub.url)).toEqual({ token: carol.token, kind: 'pasted' });
    expect(await main.keychain.read(down)).toBeNull();
    expect(await hearsOfNewRequest(main, alice.token)).toBe(true);
  });

  it('a sign-in through the browser cancelled while main connects with its session: still signed in with the session before, kept, and the cancelled one revoked', async () => {
    const main = desktopMain(realKeychain());
    await main.signInThroughTheBrowser(new AbortController().signal);
    const [before] = main.issued;
    const cancel = new AbortController();
    const signingIn = main.signInThroughTheBrowser(cancel.signal);
    // Cancelled as soon as main opens its connection for the new session.
    await eventually(() => main.connectedWith.length === 2, { what: 'main connecting with the new session', every: 1 });
    cancel.abort();
    await expect(signingIn).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(main.connection.session).toMatchObject({ hubUrl: hub.url, signedIn: true });
    expect(main.connection.auth.token).toBe(before);
    // The hub drops bob's sockets as the single sign-on updates his groups: the connection kept reconnects.
    await eventually(() => main.connection.session.state === 'connected', { what: 'main connected again' });
    expect(await main.keychain.read(hub.url)).toEqual({ token: before, kind: 'sso' });
    await main.connection.errands.settled();
    expect(await works(before ?? '')).toBe(true);
    expect(await works(main.issued[1] ?? '')).toBe(false);
  });
});

describe.skipIf(noSecretService !== null)(`a sign-in overtaken after it stored its session, by one then cancelled (${skipReason})`, () => {
  it('keeps the session from before both, which still works; neither of theirs stays valid, and no entry is left for a revoked session', async () => {
    const b = new AbortController();
    let signingInA: Promise<unknown> = Promise.resolve();
    let signingInB: Promise<unknown> = Promise.resolve();
    let armed = false;
    const started = new Set<string>();
    const keychain = keychainWatched(async (credential) => {
      const [, tokenA, tokenB] = main.issued;
      if (!armed || started.has(credential.token)) return;
      if (credential.token === tokenA) {
        started.add(credential.token);
        // A has stored its session over the one kept: B starts, and has opened its connection when A goes on.
        signingInB = main.signInThroughTheBrowser(b.signal);
        await eventually(() => main.connectedWith.length === 3, { what: 'main connecting with B’s session', every: 1 });
      } else if (credential.token === tokenB) {
        started.add(credential.token);
        // B has stored its session, after A ended: the person cancels B.
        await signingInA.catch(() => undefined);
        b.abort();
      }
    });
    const main = desktopMain(keychain);
    await main.signInThroughTheBrowser(new AbortController().signal);
    const [before] = main.issued;
    armed = true;

    signingInA = main.signInThroughTheBrowser(new AbortController().signal);
    await expect(signingInA).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(signingInB).rejects.toMatchObject({ code: 'CANCELLED' });
    await main.connection.errands.settled();

    const [, tokenA, tokenB] = main.issued;
    const named = (token: string | undefined) => ({ [before ?? '']: 'before', [tokenA ?? '']: 'A', [tokenB ?? '']: 'B' })[token ?? ''] ?? token;
    const kept = await main.keychain.read(hub.url);
    expect({ kept: kept && { ...kept, token: named(kept.token) }, works: { before: await works(before ?? ''), A: await works(tokenA ?? ''), B: await works(tokenB ?? '') } }).toEqual({
      kept: { token: 'before', kind: 'sso' },
      works: { before: true, A: false, B: false },
    });
    // The hub drops bob's sockets as each single sign-on updates his groups: the connection kept reconnects.
    await eventually(() => main.connection.session.state === 'connected', { what: 'main connected again' });
    expect(main.connection.session).toMatchObject({ hubUrl: hub.url, signedIn: true });
    expect(main.connection.auth.token).toBe(before);
  });
});
