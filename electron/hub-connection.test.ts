import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { DesktopEvent } from '../protocol/desktop-api.js';
import { GreenlightError } from '../protocol/errors.js';
import type { SyncResult } from '../protocol/events.js';
import { eventually } from '../server/test-support/eventually.js';
import { HubConnection } from './hub-connection.js';
import { FakeHubClient } from './test/fake-hub-client.js';
import { revokesHeld } from './test/held-revokes.js';
import { aRequest, ME, NOW } from './test/fixtures.js';
import { memoryKeychain, memorySettings } from './test/memory.js';
import { noSecretService, realKeychain } from './test/real-keychain.js';

const HUB = 'http://127.0.0.1:7300';

function syncWith(inbox = [aRequest()]): SyncResult {
  return { me: { ...ME, id: 'u_bob', email: null, status: 'active', disabled: false, lastSeenAt: null, createdAt: NOW.toISOString() }, inbox, mine: [], offers: [], serverTime: NOW.toISOString() };
}

function setup(ready: SyncResult | GreenlightError | 'silent' = syncWith(), initial: { hubUrl?: string } = {}) {
  const clients: FakeHubClient[] = [];
  const keychain = memoryKeychain();
  const { settings, data } = memorySettings(initial.hubUrl ? { hubUrl: initial.hubUrl } : {});
  const connection = new HubConnection({
    createClient: (options) => {
      const client = new FakeHubClient(options, ready);
      clients.push(client);
      return client;
    },
    keychain,
    settings,
  });
  const events: DesktopEvent[] = [];
  connection.subscribe((event) => events.push(event));
  return { connection, clients, keychain, data, events, client: () => clients.at(-1) as FakeHubClient };
}

/** After a cancelled sign-in: its client closed, no token kept, no hub remembered, and subscribers told it is signed out. */
function expectNothingKept({ connection, keychain, data, client, events }: ReturnType<typeof setup>): void {
  expect(client().closed).toBe(true);
  expect(keychain.entries.size).toBe(0);
  expect(data.get('hubUrl')).toBeNull();
  expect(connection.session).toEqual({ hubUrl: null, signedIn: false, state: 'signed-out', error: null });
  expect(events.at(-1)).toEqual({ type: 'state', session: connection.session });
}

describe('hub connection (main process) with a fake HubClient', () => {
  it('signs in: connects with the token, then stores it in the keychain under the hub URL', async () => {
    const { connection, keychain, data, client } = setup();
    const session = await connection.signIn(HUB, 'glt_bob');
    expect(client().options).toMatchObject({ url: HUB, token: 'glt_bob' });
    expect(session).toEqual({ hubUrl: HUB, signedIn: true, state: 'connected', error: null });
    expect(keychain.entries.get(HUB)).toEqual({ token: 'glt_bob', kind: 'pasted' });
    expect(data.get('hubUrl')).toBe(HUB);
    expect(connection.me?.name).toBe('bob');
  });

  it('never sends its token over plain http to another machine: not at sign-in, nor to a hub saved before', async () => {
    const remote = 'http://greenlight.corp.example.com';
    const { connection, clients, keychain } = setup();
    await expect(connection.signIn(remote, 'glt_bob')).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('use https://') });
    expect(clients).toHaveLength(0);
    expect(keychain.entries.size).toBe(0);

    const saved = setup(syncWith(), { hubUrl: remote });
    saved.keychain.entries.set(remote, { token: 'glt_bob', kind: 'pasted' });
    const session = await saved.connection.restore();
    expect(saved.clients).toHaveLength(0);
    expect(session).toMatchObject({ signedIn: false, error: { message: expect.stringContaining('unencrypted') } });
    // https anywhere, and http on this machine, are fine.
    expect((await setup().connection.signIn('https://greenlight.corp.example.com', 'glt_bob')).signedIn).toBe(true);
    expect((await setup().connection.signIn('http://localhost:7300', 'glt_bob')).signedIn).toBe(true);
  });

  it('signing in to another hub removes the token kept for the one before', async () => {
    const { connection, keychain } = setup();
    await connection.signIn(HUB, 'glt_bob');
    await connection.signIn('https://greenlight.example.com', 'glt_bob2');
    expect([...keychain.entries.keys()]).toEqual(['https://greenlight.example.com']);
  });

  it('asks its client for a new connection at once on wake, and does nothing signed out', async () => {
    const { connection, client } = setup();
    connection.reconnectNow();
    await connection.signIn(HUB, 'glt_bob');
    connection.reconnectNow();
    expect(client().reconnects).toBe(1);
  });

  it('a refused token signs nothing in and stores nothing', async () => {
    const { connection, keychain, client } = setup(new GreenlightError('UNAUTHENTICATED', 'Unknown or disabled token.'));
    await expect(connection.signIn(HUB, 'glt_bad')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(client().closed).toBe(true);
    expect(keychain.entries.size).toBe(0);
    expect(connection.session).toMatchObject({ signedIn: false, state: 'signed-out', error: { code: 'UNAUTHENTICATED' } });
  });

  it('with no OS keychain, sign-in fails before connecting and says why', async () => {
    const clients: FakeHubClient[] = [];
    const { settings } = memorySettings();
    const connection = new HubConnection({
      createClient: (options) => {
        const client = new FakeHubClient(options, syncWith());
        clients.push(client);
        return client;
      },
      keychain: memoryKeychain(new GreenlightError('UNAVAILABLE', 'No OS keychain is available')),
      settings,
    });
    await expect(connection.signIn(HUB, 'glt_bob')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(clients).toHaveLength(0);
    expect(connection.session).toMatchObject({ signedIn: false, error: { code: 'UNAVAILABLE', message: 'No OS keychain is available' } });
  });

  it('a sign-in cancelled while it waits for the hub ends CANCELLED at once: its client closed, nothing kept, and subscribers told it is signed out', async () => {
    const signedIn = setup('silent');
    const { connection } = signedIn;
    const cancel = new AbortController();
    const signingIn = connection.signIn(HUB, 'glt_bob', { signal: cancel.signal });
    await eventually(() => signedIn.clients.length === 1, { what: 'main connecting to the hub', every: 5 });
    cancel.abort();
    await expect(signingIn).rejects.toMatchObject({ code: 'CANCELLED' });
    expectNothingKept(signedIn);
  });

  it('signed out while a sign-in waits for a silent hub (a fake hub client, closed as the real one is): the sign-in ends CANCELLED and leaves the sign-out as it is', async () => {
    const signedIn = setup('silent');
    const { connection } = signedIn;
    const signingIn = connection.signIn(HUB, 'glt_bob');
    await eventually(() => signedIn.clients.length === 1, { what: 'main connecting to the hub', every: 5 });
    await connection.signOut();
    await expect(signingIn).rejects.toMatchObject({ code: 'CANCELLED' });
    expectNothingKept(signedIn);
  });

  it('a cancel that lands while the token is being stored takes it out of the keychain again and signs nothing in', async () => {
    const signedIn = setup();
    const { connection, keychain } = signedIn;
    const cancel = new AbortController();
    const save = keychain.save;
    keychain.save = async (hubUrl, token) => {
      await save(hubUrl, token);
      cancel.abort();
    };
    await expect(connection.signIn(HUB, 'glt_bob', { signal: cancel.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
    expectNothingKept(signedIn);
  });

  it('a cancel that lands once the token was stored over the session kept for the same hub puts that session back in the keychain, and main stays signed in with it, as a cancel before storing leaves it', async () => {
    const { connection, keychain, data } = setup();
    await connection.signIn(HUB, 'glt_before', { kind: 'sso' });
    const cancel = new AbortController();
    const save = keychain.save;
    keychain.save = async (hubUrl, token) => {
      await save(hubUrl, token);
      cancel.abort();
    };
    await expect(connection.signIn(HUB, 'glt_cancelled', { signal: cancel.signal, kind: 'sso' })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(connection.session).toMatchObject({ signedIn: true, state: 'connected' });
    expect(connection.auth.token).toBe('glt_before');
    expect([...keychain.entries]).toEqual([[HUB, { token: 'glt_before', kind: 'sso' }]]);
    expect(data.get('hubUrl')).toBe(HUB);
  });

  it('a cancel that lands once the entry of the hub left behind was removed puts that entry back, and takes the cancelled token out', async () => {
    const { connection, keychain, data } = setup();
    const other = 'https://greenlight.example.com';
    await connection.signIn(other, 'glt_before', { kind: 'sso' });
    const cancel = new AbortController();
    const remove = keychain.remove;
    keychain.remove = async (hubUrl) => {
      const removed = await remove(hubUrl);
      cancel.abort();
      return removed;
    };
    await expect(connection.signIn(HUB, 'glt_cancelled', { signal: cancel.signal, kind: 'sso' })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect([...keychain.entries]).toEqual([[other, { token: 'glt_before', kind: 'sso' }]]);
    expect(data.get('hubUrl')).toBe(other);
  });

  it('signed out while the sign-in stores its token: the sign-in ends CANCELLED, nothing is kept, and the hub it was for is not remembered', async () => {
    const signedIn = setup();
    const { connection, keychain, data } = signedIn;
    const save = keychain.save;
    keychain.save = async (hubUrl, token) => {
      await connection.signOut();
      await save(hubUrl, token);
    };
    await expect(connection.signIn(HUB, 'glt_bob')).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(keychain.entries.size).toBe(0);
    expect(data.get('hubUrl')).toBeNull();
    expect(connection.session).toMatchObject({ signedIn: false, state: 'signed-out' });
  });

  it('the hub could not end the session signed out of, answering only once a new sign-in had begun and been cancelled: the session says so all the same, until a sign-in succeeds (the hub unreachable: a fetch stand-in that refuses)', async () => {
    const happened: string[] = [];
    const unreachable: typeof fetch = () => Promise.reject(new Error('connect ECONNREFUSED'));
    const revokes = revokesHeld(happened, unreachable);
    let made = 0;
    const connection = new HubConnection({
      createClient: (options) => new FakeHubClient(options, made++ === 1 ? 'silent' : syncWith()),
      keychain: memoryKeychain(),
      settings: memorySettings().settings,
      fetch: revokes.fetch,
    });
    await connection.signIn(HUB, 'glt_before', { kind: 'sso' });
    await connection.signOut();
    const cancel = new AbortController();
    const signingIn = connection.signIn(HUB, 'glt_cancelled', { signal: cancel.signal, kind: 'sso' });
    await eventually(() => made === 2, { what: 'main connecting to the hub', every: 5 });
    cancel.abort();
    await expect(signingIn).rejects.toMatchObject({ code: 'CANCELLED' });
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      revokes.release();
      await connection.errands.settled();
    } finally {
      warned.mockRestore();
    }
    expect(connection.session).toMatchObject({ signedIn: false, state: 'signed-out', error: null, signOutNote: expect.stringContaining('could not be reached to end the sign-in session') });
    await connection.signIn(HUB, 'glt_after');
    expect(connection.session).not.toHaveProperty('signOutNote');
  });

  it('the note of a sign-out the hub could not end is part of main\'s state: a window that asks again (reloaded, or reopened from the tray) gets it, until the person dismisses it (the hub unreachable: a fetch stand-in that refuses)', async () => {
    const connection = new HubConnection({
      createClient: (options) => new FakeHubClient(options, syncWith()),
      keychain: memoryKeychain(),
      settings: memorySettings().settings,
      fetch: () => Promise.reject(new Error('connect ECONNREFUSED')),
    });
    const events: DesktopEvent[] = [];
    connection.subscribe((event) => events.push(event));
    await connection.signIn(HUB, 'glt_sso', { kind: 'sso' });
    await connection.signOut();
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await connection.errands.settled();
    } finally {
      warned.mockRestore();
    }
    const note = expect.stringContaining(`the hub at ${HUB} could not be reached to end the sign-in session there`);
    expect(connection.session).toMatchObject({ signedIn: false, signOutNote: note });

    expect(connection.dismissSignOutNote()).toEqual({ hubUrl: HUB, signedIn: false, state: 'signed-out', error: null });
    expect(events.at(-1)).toEqual({ type: 'state', session: connection.session });
    expect(connection.session).not.toHaveProperty('signOutNote');
  });

  it('a sign-in cancelled before it began leaves the current session alone and opens no connection', async () => {
    const { connection, clients, keychain } = setup();
    await connection.signIn(HUB, 'glt_bob');
    await expect(connection.signIn(HUB, 'glt_other', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(clients).toHaveLength(1);
    expect(connection.session).toMatchObject({ signedIn: true, state: 'connected' });
    expect(keychain.entries.get(HUB)).toEqual({ token: 'glt_bob', kind: 'pasted' });
  });

  it('credentials handed over at launch still connect for this session when no keychain can keep them', async () => {
    const { settings } = memorySettings();
    const connection = new HubConnection({
      createClient: (options) => new FakeHubClient(options, syncWith()),
      keychain: memoryKeychain(new GreenlightError('UNAVAILABLE', 'No OS keychain is available')),
      settings,
    });
    const session = await connection.signIn(HUB, 'glt_bob', { keychain: 'if-available' });
    expect(session).toMatchObject({ signedIn: true, state: 'connected', error: { code: 'UNAVAILABLE' } });
  });

  it('restores at launch from the saved hub URL and the keychain', async () => {
    const { connection, keychain, clients } = setup(syncWith(), { hubUrl: HUB });
    keychain.entries.set(HUB, { token: 'glt_saved', kind: 'pasted' });
    await connection.restore();
    expect(clients[0]?.options).toMatchObject({ url: HUB, token: 'glt_saved' });
  });

  it('without a saved token, stays signed out', async () => {
    const { connection, clients } = setup(syncWith(), { hubUrl: HUB });
    expect(await connection.restore()).toMatchObject({ signedIn: false, state: 'signed-out', hubUrl: HUB });
    expect(clients).toHaveLength(0);
  });

  it.skipIf(noSecretService !== null)(`at launch, signed in to a hub the OS keychain (unlocked) has no entry for: signed out, saying the saved sign-in was not found, once (skipped when no Secret Service is reachable: ${noSecretService ?? 'reachable'})`, async () => {
    const hubUrl = `http://127.0.0.1:7300/${randomUUID()}`;
    const { settings } = memorySettings({ hubUrl });
    const clients: FakeHubClient[] = [];
    const connection = new HubConnection({
      createClient: (options) => {
        const client = new FakeHubClient(options, syncWith());
        clients.push(client);
        return client;
      },
      keychain: realKeychain(),
      settings,
    });
    expect(await connection.restore()).toEqual({
      hubUrl,
      signedIn: false,
      state: 'signed-out',
      error: { code: 'NOT_FOUND', message: `The saved sign-in for ${hubUrl} was not found in the OS keychain (it may have been removed there): sign in again.` },
    });
    expect(clients).toHaveLength(0);
    // Said once: an older version's sign-out looks just like this, and the next launch is a quiet sign-in page.
    const next = new HubConnection({ createClient: () => {
        throw new Error('no client expected at a launch after the saved sign-in was not found');
      }, keychain: realKeychain(), settings });
    expect((await next.restore()).error).toBeNull();
  });

  it('the launch after a sign-out reads nothing from the keychain and has nothing to explain: the person signed out', async () => {
    const { settings } = memorySettings();
    const keychain = memoryKeychain();
    const before = new HubConnection({ createClient: (options) => new FakeHubClient(options, syncWith()), keychain, settings });
    await before.signIn(HUB, 'glt_bob');
    await before.signOut();
    before.close();
    const read = vi.spyOn(keychain, 'read');
    const relaunched = new HubConnection({ createClient: (options) => new FakeHubClient(options, syncWith()), keychain, settings });
    expect(await relaunched.restore()).toEqual({ hubUrl: HUB, signedIn: false, state: 'signed-out', error: null });
    expect(read).not.toHaveBeenCalled();
  });

  it('sign-out closes the connection and deletes the token from the keychain', async () => {
    const { connection, keychain, client, events } = setup();
    await connection.signIn(HUB, 'glt_bob');
    const session = await connection.signOut();
    expect(client().closed).toBe(true);
    expect(keychain.entries.has(HUB)).toBe(false);
    expect(session).toMatchObject({ signedIn: false, state: 'signed-out' });
    expect(events.at(-1)).toEqual({ type: 'state', session });
    expect(connection.inbox).toEqual([]);
  });

  it('connection state changes reach subscribers (they drive the tray)', async () => {
    const { connection, client, events } = setup();
    await connection.signIn(HUB, 'glt_bob');
    client().setState('reconnecting');
    expect(events.filter((event) => event.type === 'state').at(-1)).toMatchObject({ session: { state: 'reconnecting', signedIn: true } });
  });

  it("passes the hub's cluster status on to the window as it was pushed (an admin's policy and clock warnings)", async () => {
    const { connection, client, events } = setup();
    await connection.signIn(HUB, 'glt_bob');
    const cluster = { hubs: [], policyWarning: null, clockAheadSeconds: 95, clockWarning: "This hub's system clock is 1 min 35 s ahead of the database's." };
    client().push('cluster:status', cluster);
    expect(events.at(-1)).toEqual({ type: 'cluster:status', cluster });
  });

  it('keeps the inbox: new requests in, decided ones out, my own never, stale versions ignored', async () => {
    const first = aRequest();
    const { connection, client } = setup(syncWith([first]));
    await connection.signIn(HUB, 'glt_bob');
    expect(connection.inbox.map((r) => r.id)).toEqual([first.id]);
    const second = aRequest({ risk: 'critical' });
    client().push('request:created', second);
    client().push('request:created', aRequest({ requester: 'bob' }));
    expect(connection.inbox.map((r) => r.id)).toEqual([second.id, first.id]);
    client().push('request:updated', { ...first, status: 'approved', version: 3 });
    client().push('request:updated', { ...first, version: 2 });
    expect(connection.inbox.map((r) => r.id)).toEqual([second.id]);
  });
});
