import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesktopEvent } from '../protocol/desktop-api.js';
import { HubClient } from '../protocol/hub-client.js';
import type { GreenlightRequest } from '../protocol/request.js';
import { toAck } from './ack.js';
import { HubConnection } from './hub-connection.js';
import { createKeychain } from './keychain.js';
import { NotificationService } from './notifications.js';
import { FakeNotification } from './test/electron-fakes.js';
import { memoryKeychain, memorySettings } from './test/memory.js';
import { freePort, spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';

/** Resolves with the first event that matches. */
function nextEvent(connection: HubConnection, match: (event: DesktopEvent) => boolean, timeoutMs = 10_000): Promise<DesktopEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no matching event from the hub'));
    }, timeoutMs);
    const off = connection.subscribe((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}

describe('main-process hub connection against a real hub', () => {
  let hub: SpawnedHub;
  const clients: HubClient[] = [];
  const connections: HubConnection[] = [];

  beforeAll(async () => {
    hub = await spawnHub({ args: ['--log-level', 'warn'], timeoutMs: 45_000 });
  }, 60_000);

  afterAll(async () => {
    for (const connection of connections) connection.close();
    for (const client of clients) client.close();
    await hub?.stop();
  });

  it('receives a new request, notifies, decides it, and the requester sees the approval', async () => {
    const alice = await hub.createUser({ name: 'alice', roles: ['requester'], groups: ['dev'] });
    const bob = await hub.createUser({ name: 'bob', roles: ['approver'], groups: ['approvers'] });

    // Bob's desktop app: the main process's connection, with its notifications.
    const keychain = memoryKeychain();
    const { settings } = memorySettings();
    const connection = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain, settings });
    connections.push(connection);
    FakeNotification.created = [];
    const notifications = new NotificationService({
      Notification: FakeNotification,
      platform: 'darwin',
      now: () => new Date(),
      me: () => connection.me,
      inbox: () => connection.inbox,
      muted: () => false,
      openRequest: () => {},
      openInbox: () => {},
      decide: (input) => connection.hub().decide(input),
      batchMs: 10,
    });
    connection.subscribe((event) => notifications.handle(event));

    const session = await connection.signIn(hub.url, bob.token);
    expect(session).toMatchObject({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(keychain.entries.get(hub.url)).toEqual({ token: bob.token, kind: 'pasted' });
    expect(connection.me?.name).toBe('bob');

    // Alice, from a pipeline or her own app.
    const requester = new HubClient({ url: hub.url, token: alice.token, forceNew: true });
    clients.push(requester);
    requester.connect();
    await requester.waitUntilReady();

    const created = nextEvent(connection, (event) => event.type === 'request:created');
    const submitted = await requester.submit({ action: 'deploy', resource: 'payments-api', environment: 'production', reason: 'hotfix for INC-4412', risk: 'high' });
    const event = await created;
    expect(event.type === 'request:created' && event.request.id).toBe(submitted.id);
    expect(connection.inbox.map((request) => request.id)).toEqual([submitted.id]);

    // The batch would go out after its 10 ms; flushed now, the test waits on nothing.
    notifications.flush();
    expect(FakeNotification.created).toHaveLength(1);
    expect(FakeNotification.created[0]?.options.title).toBe('deploy payments-api → production');
    expect(FakeNotification.created[0]?.options.body).toMatch(/^alice: hotfix for INC-4412 · risk high/);

    const approvedForAlice = new Promise<GreenlightRequest>((resolve) => {
      const off = requester.on('request:updated', (request) => {
        if (request.id === submitted.id && request.status === 'approved') {
          off();
          resolve(request);
        }
      });
    });
    const decided = await connection.hub().decide({ requestId: submitted.id, decision: 'approve' });
    expect(decided.status).toBe('approved');
    const seen = await approvedForAlice;
    expect(seen.decidedBy).toBe('bob');
    if (connection.inbox.length > 0) await nextEvent(connection, () => connection.inbox.length === 0);
    expect(connection.inbox).toEqual([]);
    expect(FakeNotification.created[0]?.closed).toBe(true);
  });

  /** A connection whose first client, once created and before the hub has answered it, runs `whileConnecting`. */
  function interruptedConnection(whileConnecting: (connection: HubConnection) => Promise<unknown>) {
    const keychain = memoryKeychain();
    const { settings } = memorySettings();
    let acted: Promise<unknown> | undefined;
    const connection: HubConnection = new HubConnection({
      createClient: (options) => {
        if (!acted) acted = new Promise((resolve) => queueMicrotask(() => resolve(whileConnecting(connection))));
        return new HubClient({ ...options, forceNew: true });
      },
      keychain,
      settings,
      // An hour: a sign-in that waited out its timeout would fail the test by its own timeout instead.
      connectTimeoutMs: 3_600_000,
    });
    connections.push(connection);
    const events: DesktopEvent[] = [];
    connection.subscribe((event) => events.push(event));
    return { connection, keychain, events, acted: () => acted };
  }

  it('signing out while a sign-in connects ends that sign-in with CANCELLED at once, and leaves the app signed out with nothing to explain', async () => {
    const carol = await hub.createUser({ name: 'carol', roles: ['approver'], groups: ['approvers'] });
    const app = interruptedConnection((connection) => connection.signOut());
    await expect(app.connection.signIn(hub.url, carol.token)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await app.acted()).toMatchObject({ signedIn: false, state: 'signed-out', error: null });
    expect(app.connection.session).toEqual({ hubUrl: null, signedIn: false, state: 'signed-out', error: null });
    expect(app.events.filter((event) => event.type === 'state').at(-1)).toEqual({ type: 'state', session: app.connection.session });
    expect(app.keychain.entries.size).toBe(0);
  });

  it('a second sign-in while the first connects: the first ends with CANCELLED at once and the second stays signed in', async () => {
    const dave = await hub.createUser({ name: 'dave', roles: ['approver'], groups: ['approvers'] });
    const erin = await hub.createUser({ name: 'erin', roles: ['approver'], groups: ['approvers'] });
    const app = interruptedConnection((connection) => connection.signIn(hub.url, erin.token));
    await expect(app.connection.signIn(hub.url, dave.token)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await app.acted()).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(app.connection.session).toEqual({ hubUrl: hub.url, signedIn: true, state: 'connected', error: null });
    expect(app.connection.me?.name).toBe('erin');
    expect(app.connection.auth.token).toBe(erin.token);
  });

  it('a wrong token fails sign-in with a clear error and stores nothing', async () => {
    const keychain = memoryKeychain();
    const { settings } = memorySettings();
    const connection = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain, settings });
    connections.push(connection);
    await expect(connection.signIn(hub.url, 'glt_not-a-real-token-000000000000')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(keychain.entries.size).toBe(0);
    expect(connection.session).toMatchObject({ signedIn: false, state: 'signed-out' });
  });

  it('with no OS keychain, sign-in fails and says so, and nothing is kept', async () => {
    const bob = await hub.createUser({ name: 'bob2', roles: ['approver'], groups: ['approvers'] });
    // keytar's own failure on a machine without a Secret Service, through the real translation.
    const noDbus = () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY'));
    const failing = createKeychain({ getPassword: noDbus, setPassword: noDbus, deletePassword: noDbus });
    const { settings, data } = memorySettings();
    const connection = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain: failing, settings });
    connections.push(connection);
    await expect(connection.signIn(hub.url, bob.token)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('No OS keychain is available') });
    expect(connection.session.signedIn).toBe(false);
    expect(data.get('hubUrl')).toBeNull();
  });

  it('a hub that is not running: the sign-in\'s answer to the window says nothing answered; a missing keychain does not', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { settings } = memorySettings();
    const connection = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain: memoryKeychain(), settings });
    connections.push(connection);
    // What the window gets over the IPC, as ipc.ts folds it.
    const ack = await toAck(() => connection.signIn(closed, 'glt_bob'));
    expect(ack).toEqual({ error: { code: 'UNAVAILABLE', message: expect.stringContaining(closed), noAnswer: true } });

    const noDbus = () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY'));
    const withoutKeychain = new HubConnection({ createClient: (options) => new HubClient({ ...options, forceNew: true }), keychain: createKeychain({ getPassword: noDbus, setPassword: noDbus, deletePassword: noDbus }), settings });
    connections.push(withoutKeychain);
    const refused = await toAck(() => withoutKeychain.signIn(hub.url, 'glt_bob'));
    expect(refused).toEqual({ error: { code: 'UNAVAILABLE', message: expect.stringContaining('No OS keychain is available') } });
  });
});
