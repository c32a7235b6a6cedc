import { describe, expect, it } from 'vitest';
import type { DesktopApi, DesktopEvent, DesktopSession, DesktopSettings, DesktopSettingsUpdate } from '../../../protocol/desktop-api.js';
import type { BridgeEvent } from './bridge.js';
import { DesktopBridge } from './desktop-bridge.js';
import { cancelSignInWithBrowser, dismissSignInNote, dismissSignOutNote, signIn, signInWithBrowser, signOut, startApp } from '../store/actions.js';
import { actionMessage, signInMessage, toWireError } from '../lib/errors.js';
import { initialState, useStore } from '../store/store.js';
import { requestFixture } from '../../../protocol/request-fixture.js';

const session = { hubUrl: 'https://hub.example', signedIn: true, state: 'connected' as const, error: null };
const CI_TOKEN = { name: 'ci', scopes: ['requests:create' as const], expiresIn: '30d' };
const settings: DesktopSettings = { hubUrl: 'https://hub.example', notificationsEnabled: true, pausedUntil: null, launchAtLogin: false };

/** A preload stand-in: calls a test does not override answer with an error. */
function fakeApi(overrides: Partial<DesktopApi> = {}): { api: DesktopApi; push: (event: DesktopEvent) => void } {
  let listener: ((event: DesktopEvent) => void) | null = null;
  const notUsed = async () => ({ error: { code: 'INTERNAL' as const, message: 'not used in this test' } });
  const api: DesktopApi = {
    getSession: async () => ({ data: session }),
    signIn: notUsed,
    signInWithBrowser: notUsed,
    cancelSignInWithBrowser: notUsed,
    signOut: notUsed,
    dismissSignOutNote: notUsed,
    sync: notUsed,
    submit: notUsed,
    decide: notUsed,
    cancel: notUsed,
    review: notUsed,
    claim: notUsed,
    release: notUsed,
    get: notUsed,
    revokeGrant: notUsed,
    extendGrant: notUsed,
    audit: notUsed,
    exportAudit: notUsed,
    decisionReport: notUsed,
    explainPolicy: notUsed,
    listDelegations: notUsed,
    createDelegation: notUsed,
    endDelegation: notUsed,
    openExternal: notUsed,
    listUsers: notUsed,
    createUser: notUsed,
    updateUser: notUsed,
    disableUser: notUsed,
    enableUser: notUsed,
    setupStatus: notUsed,
    listTokens: notUsed,
    createToken: notUsed,
    revokeToken: notUsed,
    myChannels: notUsed,
    getSettings: notUsed,
    updateSettings: notUsed,
    onEvent: (next) => {
      listener = next;
      return () => (listener = null);
    },
    ...overrides,
  };
  return { api, push: (event) => listener?.(event) };
}

describe('DesktopBridge', () => {
  it('turns an error ack into a GreenlightError with its code', async () => {
    const { api } = fakeApi({ decide: async () => ({ error: { code: 'ALREADY_DECIDED', message: 'carol was faster' } }) });
    await expect(new DesktopBridge(api).decide({ requestId: 'r1', decision: 'approve' })).rejects.toMatchObject({
      name: 'GreenlightError',
      code: 'ALREADY_DECIDED',
      message: 'carol was faster',
    });
  });

  it('passes data acks through and remembers the hub URL from the session', async () => {
    const request = requestFixture();
    const { api } = fakeApi({ claim: async ({ requestId }) => ({ data: { ...request, id: requestId } }) });
    const bridge = new DesktopBridge(api);
    await expect(bridge.claim('r9')).resolves.toMatchObject({ id: 'r9' });
    await bridge.resume().catch(() => undefined);
    expect(bridge.defaultHubUrl()).toBe('https://hub.example');
  });

  it('rejects a sign-in the main process reports as failed', async () => {
    const { api } = fakeApi({
      signIn: async () => ({ data: { ...session, signedIn: false, state: 'unauthorized', error: { code: 'UNAUTHENTICATED', message: 'bad token' } } }),
    });
    await expect(new DesktopBridge(api).signIn('https://hub.example', 'glt_x')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a sign-out the keychain could not finish: back on the sign-in page with main\'s sentence; a refused sign-in leaves it, one that succeeds clears it', async () => {
    const note = 'The OS keychain is locked. Unlock it (on Linux: your login keyring) and sign in again.';
    const signedOut = { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out' as const, error: { code: 'UNAVAILABLE' as const, message: note }, signOutNote: note };
    let accepted = false;
    const { api, push } = fakeApi({
      signOut: async () => ({ data: signedOut }),
      signIn: async () => {
        if (!accepted) return { data: { ...signedOut, state: 'unauthorized', error: { code: 'UNAUTHENTICATED', message: 'bad token' } } };
        push({ type: 'state', session });
        return { data: session };
      },
      sync: async () => ({ data: { me: { id: 'u_bob', name: 'Bob', roles: ['approver'] }, inbox: [], mine: [], offers: [], serverTime: '2030-01-01T00:00:00.000Z' } as never }),
    });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    await signOut();
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: note, signInError: null });
    await signIn('https://hub.example', 'glt_x');
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: note, signInError: { code: 'UNAUTHENTICATED' } });
    accepted = true;
    await signIn('https://hub.example', 'glt_y');
    expect(useStore.getState()).toMatchObject({ phase: 'ready', signOutNote: null });
  });

  it('a sign-in to another hub that main took but whose keychain kept the old hub\'s entry: the app opens, with main\'s note to remove that entry, until dismissed', async () => {
    const note = 'Signed in. The saved sign-in for https://old.example could not be removed from the keychain: remove it in your keychain app (the entry "Greenlight" for https://old.example).';
    const signedIn: DesktopSession = { ...session, signInNote: note };
    const { api, push } = fakeApi({
      getSession: async () => ({ data: { hubUrl: 'https://old.example', signedIn: false, state: 'signed-out', error: null } }),
      signIn: async () => {
        push({ type: 'state', session: signedIn });
        return { data: signedIn };
      },
      sync: async () => ({ data: { me: { id: 'u_bob', name: 'Bob', roles: ['approver'] }, inbox: [], mine: [], offers: [], serverTime: '2030-01-01T00:00:00.000Z' } as never }),
    });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    await signIn('https://hub.example', 'glt_x');
    expect(useStore.getState()).toMatchObject({ phase: 'ready', signInError: null, signInNote: note });
    dismissSignInNote();
    expect(useStore.getState()).toMatchObject({ phase: 'ready', signInNote: null });
  });

  it('a sign-out main finishes here first: the form is back at once, and when the hub then cannot end the session, main\'s sentence comes after and shows under it', async () => {
    const note = 'Signed out on this computer, but the hub at https://hub.example could not be reached to end the sign-in session there (connect ECONNREFUSED). It stays valid until it expires; nothing on this computer keeps it.';
    const signedOut = { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out' as const, error: null };
    const { api, push } = fakeApi({
      signOut: async () => {
        push({ type: 'state', session: signedOut });
        return { data: signedOut };
      },
    });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    await signOut();
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: null, signInError: null });
    push({ type: 'state', session: { ...signedOut, signOutNote: note } });
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: note, signInError: null });
  });

  it('a window reloaded (or reopened from the tray) after a sign-out the hub could not end shows main\'s note again; once dismissed, main forgets it, so the next reload shows none', async () => {
    const note = 'Signed out on this computer, but the hub at https://hub.example could not be reached to end the sign-in session there (connect ECONNREFUSED). It stays valid until it expires; nothing on this computer keeps it.';
    // Main's session, as it keeps it between windows: the note stays until dismissed.
    let mainSession: DesktopSession = { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out', error: null, signOutNote: note };
    const dismissed: string[] = [];
    const { api, push } = fakeApi({
      getSession: async () => ({ data: mainSession }),
      dismissSignOutNote: async () => {
        dismissed.push('dismissed');
        mainSession = { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out', error: null };
        push({ type: 'state', session: mainSession });
        return { data: mainSession };
      },
    });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: note, signInError: null });

    await dismissSignOutNote();
    expect(dismissed).toEqual(['dismissed']);
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: null });

    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: null, signInError: null });
  });

  it('started signed out because main could not read the saved sign-in at launch (its keychain locked, or the entry gone): the sign-in page says why, in main\'s words', async () => {
    const locked = 'The OS keychain is locked: unlock it to sign in again automatically to https://hub.example when Greenlight next starts, or unlock it and sign in here.';
    const notFound = 'The saved sign-in for https://hub.example was not found in the OS keychain (it may have been removed there): sign in again.';
    for (const error of [{ code: 'UNAVAILABLE' as const, message: locked }, { code: 'NOT_FOUND' as const, message: notFound }]) {
      const { api } = fakeApi({ getSession: async () => ({ data: { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out', error } }) });
      useStore.setState(initialState);
      await startApp(new DesktopBridge(api));
      expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: null, signInError: error });
      expect(signInMessage(useStore.getState().signInError ?? error, 'https://hub.example').hint).toBe(error.message);
    }
  });

  it('started after a sign-out the keychain could not finish: the sign-out note shows, not the keychain\'s error beside it', async () => {
    const note = 'Signed out, but the OS keychain is locked, so the saved sign-in for https://hub.example could not be removed: it remains in your keychain (the entry "Greenlight" for https://hub.example). Greenlight will not use it again. Remove it in your keychain app, or unlock the keychain, sign in and sign out again.';
    const error = { code: 'UNAVAILABLE' as const, message: 'The OS keychain is locked. Unlock it (on Linux: your login keyring) and sign in again.' };
    const { api } = fakeApi({ getSession: async () => ({ data: { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out', error, signOutNote: note } }) });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: note, signInError: null });
  });

  it('a signed-out state that carries an error but no sign-out note (a sign-in at launch that failed) shows no sign-out note', async () => {
    const { api, push } = fakeApi({ getSession: async () => ({ data: { hubUrl: null, signedIn: false, state: 'signed-out', error: null } }) });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    push({ type: 'state', session: { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out', error: { code: 'UNAUTHENTICATED', message: 'This token is not valid (unknown token).' } } });
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: null });
  });

  it('the hub could not end the signed-out session while a new browser sign-in waited: once that sign-in is cancelled, the sign-in page says so', async () => {
    const note = 'Signed out on this computer, but the hub at https://hub.example could not be reached to end the sign-in session there (connect ECONNREFUSED). It stays valid until it expires; nothing on this computer keeps it.';
    const signedOut = { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out' as const, error: null };
    let endWait: () => void = () => undefined;
    const { api, push } = fakeApi({
      getSession: async () => ({ data: signedOut }),
      signInWithBrowser: () => new Promise((resolve) => (endWait = () => resolve({ error: { code: 'CANCELLED', message: 'Sign-in through the browser was cancelled.' } }))),
      cancelSignInWithBrowser: async () => {
        endWait();
        return { data: true };
      },
    });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    const waiting = signInWithBrowser('https://hub.example');
    push({ type: 'state', session: { ...signedOut, signOutNote: note } });
    await cancelSignInWithBrowser();
    await waiting;
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signInError: null, signOutNote: note });
  });

  it('a sign-out that went through at the hub too leaves nothing to say', async () => {
    const { api } = fakeApi({ signOut: async () => ({ data: { hubUrl: 'https://hub.example', signedIn: false, state: 'signed-out', error: null } }) });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    await signOut();
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signOutNote: null });
  });

  it('started while the hub is down: says so at once, still signed in, and opens by itself when the main process syncs', async () => {
    const down = { ...session, state: 'unreachable' as const, error: { code: 'UNAVAILABLE' as const, message: 'Cannot reach the hub at https://hub.example: connect ECONNREFUSED', noAnswer: true as const } };
    let syncCalls = 0;
    const { api, push } = fakeApi({
      getSession: async () => ({ data: down }),
      sync: async () => {
        syncCalls += 1;
        return { error: { code: 'TIMEOUT' as const, message: 'The hub did not answer requests:sync within 15000 ms' } };
      },
    });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    expect(syncCalls).toBe(0);
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signInError: { code: 'UNAVAILABLE', message: expect.stringContaining('ECONNREFUSED') } });
    expect(useStore.getState().signInError?.message).toContain('You are still signed in');
    // What the sign-in page shows: the hub is unreachable, and the app keeps trying (not "try again").
    const error = useStore.getState().signInError;
    expect(error && signInMessage(error, 'https://hub.example')).toEqual({
      title: 'Cannot reach the hub at https://hub.example.',
      hint: 'You are still signed in: the app keeps trying and opens as soon as the hub answers.',
    });

    const me = { id: 'u1', name: 'bob', roles: ['approver' as const], groups: ['sre'], email: null, status: 'active' as const, disabled: false, lastSeenAt: null, createdAt: '2026-01-01T00:00:00Z' };
    push({ type: 'sync', result: { me, inbox: [requestFixture()], mine: [], offers: [], serverTime: '2026-01-01T00:00:00Z' } });
    expect(useStore.getState()).toMatchObject({ phase: 'ready', me: { name: 'bob' } });
  });

  it('started while the hub answers that its database is away: the hub\'s reason, not "cannot reach"', async () => {
    const away = { ...session, state: 'unreachable' as const, error: { code: 'UNAVAILABLE' as const, message: 'The hub cannot reach its database right now, so nothing was stored. Retry in a few seconds.' } };
    const { api } = fakeApi({ getSession: async () => ({ data: away }) });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    const error = useStore.getState().signInError;
    expect(error && signInMessage(error, 'https://hub.example')).toEqual({
      title: 'Sign-in failed.',
      hint: 'The hub cannot reach its database right now, so nothing was stored. Retry in a few seconds. You are still signed in: the app keeps trying and opens as soon as the hub answers.',
    });
  });

  it('a sign-in the main process saw nothing answer keeps that mark across the IPC, whatever its sentence says', async () => {
    const { api } = fakeApi({
      signIn: async () => ({ error: { code: 'UNAVAILABLE', message: 'Connection refused by 203.0.113.9.', noAnswer: true } }),
    });
    useStore.setState(initialState);
    const bridge = new DesktopBridge(api);
    const error = await bridge.signIn('https://hub.example', 'glt_x').then(() => null, (thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', noAnswer: true });
  });

  it('a console action keeps across the IPC whether anything left: only a connection never made is "not sent"', async () => {
    const createTokenFailing = (error: { code: 'UNAVAILABLE'; message: string; noAnswer: true; neverSent?: true }) => new DesktopBridge(fakeApi({ createToken: async () => ({ error }) }).api);
    const shown = async (bridge: DesktopBridge) => actionMessage(toWireError(await bridge.createToken(CI_TOKEN).then(() => null, (thrown: unknown) => thrown)));
    const refused = createTokenFailing({ code: 'UNAVAILABLE', message: 'Cannot reach the hub at https://hub.example: connect ECONNREFUSED', noAnswer: true, neverSent: true });
    expect(await shown(refused)).toMatch(/^Not sent/);
    // The proxy reset the connection after the body went out: the hub may have made the token.
    const reset = createTokenFailing({ code: 'UNAVAILABLE', message: 'Cannot reach the hub at https://hub.example: other side closed', noAnswer: true });
    expect(await shown(reset)).toBe('The hub did not answer, so this may or may not have been done. Check once reconnected.');
  });

  it('started with a token the hub refused: the hub\'s own words, not a network error', async () => {
    const refused = { ...session, state: 'unauthorized' as const, error: { code: 'UNAUTHENTICATED' as const, message: 'This token is not valid (unknown, revoked, or its user was disabled). Ask an admin for a new one.' } };
    const { api } = fakeApi({ getSession: async () => ({ data: refused }) });
    useStore.setState(initialState);
    await startApp(new DesktopBridge(api));
    expect(useStore.getState()).toMatchObject({ phase: 'signed-out', signInError: refused.error });
  });

  it('maps pushes from the main process to bridge events', () => {
    const { api, push } = fakeApi();
    const seen: BridgeEvent[] = [];
    const off = new DesktopBridge(api).subscribe((event) => seen.push(event));
    push({ type: 'state', session: { ...session, state: 'reconnecting' } });
    push({ type: 'open-request', requestId: 'r1' });
    off();
    push({ type: 'open-request', requestId: 'r2' });
    expect(seen).toEqual([
      { type: 'state', state: 'reconnecting', error: null, signOutNote: null },
      { type: 'open-request', requestId: 'r1' },
    ]);
  });

  it('says it keeps desktop settings, reads them and sends an update as given', async () => {
    const sent: DesktopSettingsUpdate[] = [];
    const { api } = fakeApi({
      getSettings: async () => ({ data: settings }),
      updateSettings: async (input) => {
        sent.push(input);
        return { data: { ...settings, ...input } };
      },
    });
    const bridge = new DesktopBridge(api);
    expect(bridge.supportsDesktopSettings).toBe(true);
    await expect(bridge.getSettings()).resolves.toEqual(settings);
    const until = '2026-11-24T20:30:00.000Z';
    await expect(bridge.updateSettings({ pausedUntil: until })).resolves.toEqual({ ...settings, pausedUntil: until });
    expect(sent).toEqual([{ pausedUntil: until }]);
  });

  it('turns a refused settings update into a GreenlightError', async () => {
    const { api } = fakeApi({ updateSettings: async () => ({ error: { code: 'INVALID_INPUT', message: 'pausedUntil: must be in the future' } }) });
    await expect(new DesktopBridge(api).updateSettings({ pausedUntil: '2020-01-01T00:00:00Z' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'pausedUntil: must be in the future',
    });
  });

  it('passes a settings push from the main process through', () => {
    const { api, push } = fakeApi();
    const seen: BridgeEvent[] = [];
    new DesktopBridge(api).subscribe((event) => seen.push(event));
    push({ type: 'settings', settings: { ...settings, notificationsEnabled: false } });
    expect(seen).toEqual([{ type: 'settings', settings: { ...settings, notificationsEnabled: false } }]);
  });

  it('sends a user change as {name, changes} and turns LAST_ADMIN into a GreenlightError', async () => {
    const sent: unknown[] = [];
    const { api } = fakeApi({
      updateUser: async (input) => {
        sent.push(input);
        return { error: { code: 'LAST_ADMIN', message: 'You are the last active admin.' } };
      },
    });
    await expect(new DesktopBridge(api).updateUser('admin', { roles: ['approver'] })).rejects.toMatchObject({ name: 'GreenlightError', code: 'LAST_ADMIN' });
    expect(sent).toEqual([{ name: 'admin', changes: { roles: ['approver'] } }]);
  });
});
