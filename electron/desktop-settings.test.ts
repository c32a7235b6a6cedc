import { beforeEach, describe, expect, it } from 'vitest';
import type { Settings as LoginItemSettings, MenuItemConstructorOptions } from 'electron';
import type { DesktopSettings } from '../protocol/desktop-api.js';
import { DesktopSettingsService, LOGIN_ARGS } from './desktop-settings.js';
import { registerIpc, trustedSender } from './ipc.js';
import { createIpcHandlers } from './ipc-handlers.js';
import { NotificationService } from './notifications.js';
import { formatPauseEnd } from './pause.js';
import { TrayService } from './tray.js';
import { trayStateFrom } from './tray-state.js';
import { clickItem, FakeIpcMain, FakeNotification, FakeTray, FakeWebContents, menuItem } from './test/electron-fakes.js';
import { aRequest, ME } from './test/fixtures.js';
import { memorySettings } from './test/memory.js';

const HOUR = 3600_000;

function setup(initial: Parameters<typeof memorySettings>[0] = {}) {
  const { settings, data } = memorySettings({ hubUrl: 'https://hub.example.com', ...initial });
  const loginItems: LoginItemSettings[] = [];
  const changes: DesktopSettings[] = [];
  const service = new DesktopSettingsService({
    settings,
    setLoginItemSettings: (options) => void loginItems.push(options),
    now: () => new Date(),
    changed: (current) => void changes.push(current),
  });
  return { service, data, loginItems, changes };
}

describe('desktop settings with Electron fakes', () => {
  it('reads the four settings the page shows; an ended pause reads as not paused', () => {
    expect(setup().service.current()).toEqual({ hubUrl: 'https://hub.example.com', notificationsEnabled: true, pausedUntil: null, launchAtLogin: false });
    const ended = new Date(Date.now() - 60_000).toISOString();
    expect(setup({ pausedUntil: ended }).service.current().pausedUntil).toBeNull();
    const later = new Date(Date.now() + HOUR).toISOString();
    expect(setup({ pausedUntil: later }).service.current().pausedUntil).toBe(later);
  });

  it('an update changes the store, applies launch at login to the OS and announces the result', () => {
    const { service, data, loginItems, changes } = setup();
    const result = service.update({ launchAtLogin: true, notificationsEnabled: false });
    expect(data.get('launchAtLogin')).toBe(true);
    expect(data.get('notificationsEnabled')).toBe(false);
    expect(loginItems).toEqual([{ openAtLogin: true, args: LOGIN_ARGS }]);
    expect(result).toMatchObject({ launchAtLogin: true, notificationsEnabled: false });
    expect(changes).toEqual([result]);
    expect(service.muted()).toBe(true);
  });

  it('leaves the login item alone when launch at login is not part of the update', () => {
    const { service, loginItems } = setup();
    service.update({ notificationsEnabled: false });
    expect(loginItems).toEqual([]);
    service.applyLoginItem();
    expect(loginItems).toEqual([{ openAtLogin: false, args: LOGIN_ARGS }]);
  });

  it('keeps the stored choice when the OS refuses the login item', () => {
    const { settings, data } = memorySettings();
    const service = new DesktopSettingsService({
      settings,
      setLoginItemSettings: () => {
        throw new Error('login items are managed by policy');
      },
      now: () => new Date(),
      changed: () => {},
    });
    expect(() => service.update({ launchAtLogin: true })).toThrow('policy');
    expect(data.get('launchAtLogin')).toBe(false);
  });

  it('the tray pause and resume go through the same place, so the page hears of them', () => {
    const { service, data, changes } = setup();
    service.pause('1h');
    const until = data.get('pausedUntil') as string;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(HOUR - 5_000);
    expect(changes.at(-1)?.pausedUntil).toBe(until);
    expect(service.muted()).toBe(true);
    service.resume();
    expect(data.get('pausedUntil')).toBeNull();
    expect(changes.at(-1)?.pausedUntil).toBeNull();
    expect(service.muted()).toBe(false);
  });
});

describe('pausing from the window, over IPC with Electron fakes', () => {
  beforeEach(() => {
    FakeNotification.created = [];
    FakeTray.created = [];
  });

  /** The same wiring as shell.ts, without a hub: IPC → settings → notifications, tray and window. */
  function wire() {
    const page = { contents: new FakeWebContents(), url: 'app://greenlight/index.html' };
    const { settings, data } = memorySettings();
    const loginItems: LoginItemSettings[] = [];
    const service = new DesktopSettingsService({
      settings,
      setLoginItemSettings: (options) => void loginItems.push(options),
      now: () => new Date(),
      changed: (current) => {
        page.contents.send('greenlight:event', { type: 'settings', settings: current });
        renderTray();
      },
    });
    const notifications = new NotificationService({
      Notification: FakeNotification,
      platform: 'linux',
      now: () => new Date(),
      me: () => ME,
      inbox: () => [],
      muted: () => service.muted(),
      openRequest: () => {},
      openInbox: () => {},
      decide: async () => {},
    });
    const tray = new TrayService<string, MenuItemConstructorOptions[]>({
      createTray: (image) => new FakeTray(image),
      buildMenu: (template) => template,
      loadImage: (path) => path,
      iconPath: (status, theme) => `${status}-${theme}.png`,
      actions: { openRequest: () => {}, openApp: () => {}, pause: (choice) => service.pause(choice), resume: () => service.resume(), quit: () => {} },
    });
    const renderTray = () => {
      const until = service.current().pausedUntil;
      tray.render(
        trayStateFrom({
          session: { hubUrl: null, signedIn: true, state: 'connected', error: null },
          inbox: [],
          me: ME,
          pausedUntil: until ? formatPauseEnd(new Date(until), new Date()) : null,
          theme: 'light',
        }),
      );
    };
    renderTray();
    const ipcMain = new FakeIpcMain();
    const notUsed = (): never => {
      throw new Error('not used in this test');
    };
    registerIpc({
      ipcMain,
      isTrustedSender: trustedSender((sender) => sender.id === page.contents.id),
      handlers: createIpcHandlers({
        connection: { session: { hubUrl: null, signedIn: false, state: 'signed-out', error: null }, signIn: notUsed, signOut: notUsed, dismissSignOutNote: notUsed, hub: notUsed, holds: () => false, ensureKeychain: notUsed },
        hubHttp: { revokeGrant: notUsed, extendGrant: notUsed, audit: notUsed, decisionReport: notUsed, listUsers: notUsed, createUser: notUsed, updateUser: notUsed, disableUser: notUsed, enableUser: notUsed, setupStatus: notUsed, myChannels: notUsed, explainPolicy: notUsed, listDelegations: notUsed, createDelegation: notUsed, endDelegation: notUsed, listTokens: notUsed, createToken: notUsed, revokeToken: notUsed },
        desktopSettings: service,
        exportAudit: notUsed,
        openExternal: async () => {},
        rendererReady: () => {},
      }),
    });
    const tell = (request = aRequest()) => {
      notifications.handle({ type: 'request:created', request });
      notifications.flush();
    };
    return { ipcMain, page, tray: FakeTray.created[0] as FakeTray, tell, loginItems, data };
  }

  it('a pause chosen in the window silences notifications, shows in the tray and is pushed back to the page', async () => {
    const { ipcMain, page, tray, tell } = wire();
    const until = new Date(Date.now() + HOUR).toISOString();
    const ack = await ipcMain.invoke('greenlight:updateSettings', page, { pausedUntil: until });
    expect(ack).toMatchObject({ data: { pausedUntil: until } });
    expect(page.contents.sent.at(-1)).toEqual({ channel: 'greenlight:event', payload: { type: 'settings', settings: expect.objectContaining({ pausedUntil: until }) } });
    expect(tray.toolTip).toMatch(/notifications paused until (tomorrow )?\d\d:\d\d$/);
    expect(menuItem(tray.menu, 'Resume notifications')?.enabled).toBe(true);

    tell();
    expect(FakeNotification.created).toHaveLength(0);

    // Resuming from the tray is heard by the page too, and the next request notifies.
    clickItem(menuItem(tray.menu, 'Resume notifications'));
    expect(page.contents.sent.at(-1)?.payload).toMatchObject({ type: 'settings', settings: { pausedUntil: null } });
    expect(tray.toolTip).not.toMatch(/paused/);
    tell();
    expect(FakeNotification.created).toHaveLength(1);
  });

  it('switching notifications off in the window silences them; launch at login reaches the OS', async () => {
    const { ipcMain, page, tell, loginItems, data } = wire();
    await ipcMain.invoke('greenlight:updateSettings', page, { notificationsEnabled: false, launchAtLogin: true });
    expect(data.get('notificationsEnabled')).toBe(false);
    expect(loginItems).toEqual([{ openAtLogin: true, args: LOGIN_ARGS }]);
    tell();
    expect(FakeNotification.created).toHaveLength(0);
    expect(await ipcMain.invoke('greenlight:getSettings', page)).toEqual({
      data: { hubUrl: null, notificationsEnabled: false, pausedUntil: null, launchAtLogin: true },
    });
  });

  it('a refused payload changes nothing', async () => {
    const { ipcMain, page, data, loginItems } = wire();
    const ack = await ipcMain.invoke('greenlight:updateSettings', page, { pausedUntil: new Date(Date.now() - HOUR).toISOString(), launchAtLogin: true });
    expect(ack).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    expect(data.get('pausedUntil')).toBeNull();
    expect(data.get('launchAtLogin')).toBe(false);
    expect(loginItems).toEqual([]);
  });
});
