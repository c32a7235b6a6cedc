import { beforeEach, describe, expect, it } from 'vitest';
import type { DesktopSettings, DesktopSettingsUpdate } from '../../../protocol/desktop-api.js';
import { GreenlightError } from '../../../protocol/errors.js';
import type { Bridge, BridgeEvent } from '../bridge/bridge.js';
import { startApp } from './actions.js';
import {
  SETTINGS_PENDING,
  loadSettings,
  pauseNotifications,
  resumeNotifications,
  setLaunchAtLogin,
  setNotificationsEnabled,
  settingsAvailable,
} from './settings-actions.js';
import { initialState, useStore } from './store.js';

const SETTINGS: DesktopSettings = { hubUrl: 'https://hub.example', notificationsEnabled: true, pausedUntil: null, launchAtLogin: false };

/** A host whose settings calls are recorded; everything else is never called by these tests. */
function fakeHost(options: { desktop?: boolean; refuse?: GreenlightError } = {}) {
  const updates: DesktopSettingsUpdate[] = [];
  let listener: ((event: BridgeEvent) => void) | null = null;
  let stored = SETTINGS;
  const notUsed = () => Promise.reject(new Error('not used in this test'));
  const host: Bridge = {
    host: options.desktop === false ? 'web' : 'desktop',
    supportsDesktopSettings: options.desktop !== false,
    defaultHubUrl: () => '',
    resume: async () => ({ signedIn: false, signOutNote: null }),
    signIn: notUsed,
    supportsBrowserSignIn: false,
    signInWithBrowser: notUsed,
    cancelSignInWithBrowser: notUsed,
    signOut: async () => null,
    dismissSignOutNote: notUsed,
    subscribe: (next) => {
      listener = next;
      return () => (listener = null);
    },
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
    getSettings: async () => stored,
    updateSettings: async (input) => {
      updates.push(input);
      // The busy flag is up while main works on it.
      expect(useStore.getState().pending[SETTINGS_PENDING]).toBe(true);
      if (options.refuse) throw options.refuse;
      stored = { ...stored, ...input };
      return stored;
    },
  };
  return { host, updates, push: (event: BridgeEvent) => listener?.(event) };
}

beforeEach(() => {
  useStore.setState(initialState);
});

describe('settings actions', () => {
  it('reads the desktop settings into the store', async () => {
    await startApp(fakeHost().host);
    expect(settingsAvailable()).toBe(true);
    await loadSettings();
    expect(useStore.getState().settings).toEqual(SETTINGS);
  });

  it('in the web console reads nothing and says settings are not available', async () => {
    const { host } = fakeHost({ desktop: false });
    host.getSettings = () => Promise.reject(new Error('must not be called'));
    await startApp(host);
    expect(settingsAvailable()).toBe(false);
    await loadSettings();
    expect(useStore.getState().settings).toBeNull();
    expect(useStore.getState().notice).toBeNull();
  });

  it('pauses for one hour or until 08:00 tomorrow, sending the end as an ISO time', async () => {
    const { host, updates } = fakeHost();
    await startApp(host);
    const now = new Date(2026, 10, 24, 18, 30);
    await pauseNotifications('1h', now);
    await pauseNotifications('tomorrow', now);
    expect(updates).toEqual([{ pausedUntil: new Date(2026, 10, 24, 19, 30).toISOString() }, { pausedUntil: new Date(2026, 10, 25, 8, 0).toISOString() }]);
    expect(useStore.getState().settings?.pausedUntil).toBe(new Date(2026, 10, 25, 8, 0).toISOString());
    expect(useStore.getState().notice).toBeNull();
    expect(useStore.getState().pending[SETTINGS_PENDING]).toBeUndefined();
  });

  it('resumes, switches notifications and launch at login, one field per change', async () => {
    const { host, updates } = fakeHost();
    await startApp(host);
    await resumeNotifications();
    await setNotificationsEnabled(false);
    await setLaunchAtLogin(true);
    expect(updates).toEqual([{ pausedUntil: null }, { notificationsEnabled: false }, { launchAtLogin: true }]);
    expect(useStore.getState().settings).toEqual({ ...SETTINGS, notificationsEnabled: false, launchAtLogin: true });
  });

  it('a refused change keeps the settings as they were and says why', async () => {
    const { host } = fakeHost({ refuse: new GreenlightError('INVALID_INPUT', 'pausedUntil: must be in the future') });
    await startApp(host);
    await loadSettings();
    expect(await setLaunchAtLogin(true)).toBe(false);
    expect(useStore.getState().settings).toEqual(SETTINGS);
    expect(useStore.getState().notice).toMatchObject({ kind: 'error', text: 'pausedUntil: must be in the future' });
    expect(useStore.getState().pending[SETTINGS_PENDING]).toBeUndefined();
  });

  it('follows settings the main process pushes (a pause chosen in the tray)', async () => {
    const { host, push } = fakeHost();
    await startApp(host);
    const paused = { ...SETTINGS, pausedUntil: '2026-11-24T19:30:00.000Z' };
    push({ type: 'settings', settings: paused });
    expect(useStore.getState().settings).toEqual(paused);
  });
});
