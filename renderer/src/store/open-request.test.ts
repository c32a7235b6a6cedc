import { beforeEach, describe, expect, it, vi } from 'vitest';
import { GreenlightError } from '../../../protocol/errors.js';
import type { SyncResult } from '../../../protocol/events.js';
import type { GreenlightRequest } from '../../../protocol/request.js';
import { requestFixture } from '../../../protocol/request-fixture.js';
import type { Bridge, BridgeEvent } from '../bridge/bridge.js';
import { moveSelection, openRequest, signIn, startApp } from './actions.js';
import { initialState, useStore } from './store.js';

const me = { id: 'u1', name: 'bob', roles: ['approver' as const], groups: ['sre'], email: null, status: 'active' as const, disabled: false, lastSeenAt: null, createdAt: '2026-01-01T00:00:00Z' };
const waiting = requestFixture({ id: 'req_waiting', resource: 'api', status: 'pending' });
const decided = requestFixture({ id: 'req_linked', resource: 'billing-db', status: 'approved', decidedBy: 'carol', decidedAt: '2026-01-01T00:05:00Z' });
const sync: SyncResult = { me, inbox: [waiting], mine: [], offers: [], serverTime: '2026-01-01T00:00:00Z' };

/** A host whose `get` answers as given; nothing else is called by these tests but what `overrides` adds. */
function hostAnswering(get: (id: string) => Promise<GreenlightRequest>, overrides: Partial<Bridge> = {}): Bridge {
  const notUsed = () => Promise.reject(new Error('not used in this test'));
  const used: Partial<Bridge> = { resume: async () => ({ signedIn: true, result: sync }), subscribe: () => () => undefined, get, ...overrides };
  return new Proxy(used, { get: (target, key) => (key in target ? target[key as keyof Bridge] : notUsed) }) as Bridge;
}

beforeEach(() => useStore.setState(initialState));

describe('opening a request from a chat link', () => {
  it('fetches one that no longer waits on me and shows it, decided as it is, not the request at the top of the inbox', async () => {
    const asked: string[] = [];
    await startApp(hostAnswering(async (id) => (asked.push(id), decided)));
    await openRequest('req_linked');
    expect(asked).toEqual(['req_linked']);
    const state = useStore.getState();
    expect(state.view).toBe('inbox');
    expect(state.selectedId).toBe('req_linked');
    expect(state.requests.byId.req_linked).toMatchObject({ resource: 'billing-db', status: 'approved' });
  });

  it('opens one already known without asking the hub', async () => {
    const asked: string[] = [];
    await startApp(hostAnswering(async (id) => (asked.push(id), waiting)));
    await openRequest('req_waiting');
    expect(asked).toEqual([]);
    expect(useStore.getState().selectedId).toBe('req_waiting');
  });

  it('one the hub won’t show leaves a note in its words, and selects nothing else', async () => {
    await startApp(hostAnswering(async () => Promise.reject(new GreenlightError('NOT_FOUND', 'No request "req_gone".'))));
    await openRequest('req_gone');
    const state = useStore.getState();
    expect(state.selectedId).toBeNull();
    expect(state.link?.note).toBe('The request this link opens (req_gone) can’t be shown: No request "req_gone".');
  });

  it('one opened while signed out (a new browser tab) opens once I sign in, instead of a "Not signed in" note', async () => {
    // Like the web console's bridge: nothing reaches the hub until someone signs in.
    let signedIn = false;
    const asked: string[] = [];
    const get = async (id: string) => {
      if (!signedIn) throw new GreenlightError('UNAUTHENTICATED', 'Not signed in.');
      asked.push(id);
      return decided;
    };
    await startApp(hostAnswering(get, { resume: async () => ({ signedIn: false, signOutNote: null }), signIn: async () => ((signedIn = true), sync) }));
    await openRequest('req_linked');
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', link: { id: 'req_linked', note: null } });

    await signIn('https://hub.example', 'glt_token');
    await vi.waitFor(() => expect(asked).toEqual(['req_linked']));
    const state = useStore.getState();
    expect(state.link?.note ?? null).toBeNull();
    expect(state.selectedId).toBe('req_linked');
    expect(state.requests.byId.req_linked).toMatchObject({ resource: 'billing-db', status: 'approved' });
  });

  it('stays shown when the app syncs again (reconnect, wake, a stale notice), and shows what changed meanwhile', async () => {
    let listener: (event: BridgeEvent) => void = () => undefined;
    const revoked = { ...decided, version: decided.version + 1, cancelReason: 'grant revoked' };
    const answers = [decided, revoked];
    const get = async () => answers.shift() ?? revoked;
    await startApp(hostAnswering(get, { subscribe: (next) => ((listener = next), () => undefined) }));
    await openRequest('req_linked');

    // The sync carries what waits on me and what I asked for: not this request.
    listener({ type: 'sync', result: sync });
    expect(useStore.getState().requests.byId.req_linked).toBeDefined();
    await vi.waitFor(() => expect(useStore.getState().requests.byId.req_linked?.version).toBe(revoked.version));
    expect(useStore.getState().selectedId).toBe('req_linked');
  });

  it('is taken off the screen once the hub says I may no longer see it, and moving on with j/k forgets the link', async () => {
    let listener: (event: BridgeEvent) => void = () => undefined;
    const answers: (() => Promise<GreenlightRequest>)[] = [async () => decided, async () => Promise.reject(new GreenlightError('FORBIDDEN', 'You are neither the requester nor an approver of this request.'))];
    const get = () => (answers.shift() ?? (async () => decided))();
    await startApp(hostAnswering(get, { subscribe: (next) => ((listener = next), () => undefined) }));
    await openRequest('req_linked');
    listener({ type: 'sync', result: sync });
    await vi.waitFor(() => expect(useStore.getState().requests.byId.req_linked).toBeUndefined());
    expect(useStore.getState()).toMatchObject({ selectedId: null, link: { id: 'req_linked', note: expect.stringContaining('neither the requester nor an approver') } });

    await openRequest('req_waiting');
    moveSelection(1);
    expect(useStore.getState().link).toBeNull();
  });
});

describe('opening a request from a desktop notification', () => {
  /** The desktop app's host: main pushes 'open-request' when a notification (or the tray) is clicked. */
  async function desktopApp(get: (id: string) => Promise<GreenlightRequest>): Promise<(event: BridgeEvent) => void> {
    let listener: (event: BridgeEvent) => void = () => undefined;
    await startApp(hostAnswering(get, { host: 'desktop', subscribe: (next) => ((listener = next), () => undefined) }));
    return listener;
  }

  it('an old notification, for a request decided since, opens that request as it now is, like a chat link', async () => {
    const asked: string[] = [];
    const push = await desktopApp(async (id) => (asked.push(id), decided));
    push({ type: 'open-request', requestId: 'req_linked' });
    await vi.waitFor(() => expect(useStore.getState().requests.byId.req_linked).toMatchObject({ status: 'approved' }));
    expect(asked).toEqual(['req_linked']);
    expect(useStore.getState()).toMatchObject({ view: 'inbox', selectedId: 'req_linked' });
  });

  it('one about my own request opens it among my requests', async () => {
    const mine = requestFixture({ id: 'req_mine', requester: 'bob', status: 'approved' });
    const push = await desktopApp(async () => mine);
    push({ type: 'open-request', requestId: 'req_mine', view: 'mine' });
    await vi.waitFor(() => expect(useStore.getState().requests.byId.req_mine).toBeDefined());
    expect(useStore.getState()).toMatchObject({ view: 'mine', selectedId: 'req_mine' });
  });
});
