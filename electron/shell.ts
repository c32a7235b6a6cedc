import type * as Electron from 'electron';
import { readFile } from 'node:fs/promises';
import Store from 'electron-store';
import { HubClient } from '../protocol/hub-client.js';
import { HubHttp } from '../protocol/hub-http.js';
import { APP_SCHEME } from './app-origin.js';
import { createAppProtocolHandler } from './app-protocol.js';
import { createAuditExport } from './audit-export.js';
import { DesktopSettingsService } from './desktop-settings.js';
import { HubConnection } from './hub-connection.js';
import { registerIpc, trustedSender } from './ipc.js';
import { createIpcHandlers } from './ipc-handlers.js';
import { createKeychain, loadKeytar } from './keychain.js';
import type { LaunchOptions } from './launch-env.js';
import { NotificationService } from './notifications.js';
import { formatPauseEnd } from './pause.js';
import { PATHS } from './paths.js';
import { Settings, type SettingsData } from './settings.js';
import { settingsStoreOptions } from './settings-store.js';
import { TrayService } from './tray.js';
import { trayStateFrom } from './tray-state.js';
import { guardSession } from './web-security.js';
import { MainWindow } from './window.js';
import { quitAfterErrands } from './quit-after-errands.js';
import { removeUnfinishedExports } from './audit-export-file.js';

/** The parts of the electron module the shell uses; tests pass fakes of the same names. */
export type ShellElectron = Pick<
  typeof Electron,
  'app' | 'BrowserWindow' | 'dialog' | 'Menu' | 'Notification' | 'Tray' | 'ipcMain' | 'nativeImage' | 'nativeTheme' | 'powerMonitor' | 'protocol' | 'session' | 'shell'
>;

/** Builds every service once the app is ready and wires them together. Returns what main needs later. */
export async function startShell(electron: ShellElectron, launch: LaunchOptions): Promise<{ showWindow(): void }> {
  const { app, BrowserWindow, dialog, Menu, Notification, Tray, ipcMain, nativeImage, nativeTheme, powerMonitor, protocol, session, shell } = electron;
  let quitting = false;

  const settings = new Settings(new Store<SettingsData>(settingsStoreOptions()));
  const keychain = createKeychain(await loadKeytar());
  const connection = new HubConnection({ createClient: (options) => new HubClient(options), keychain, settings });
  const hubHttp = new HubHttp({ fetch: (url, init) => fetch(url, init), session: () => connection.auth });
  const openExternal = (url: string) => shell.openExternal(url);

  guardSession(session.defaultSession);
  protocol.handle(APP_SCHEME, createAppProtocolHandler({ root: PATHS.rendererDist, readFile: (path) => readFile(path) }));

  const window = new MainWindow({
    createWindow: (options) => new BrowserWindow(options),
    preloadPath: PATHS.preload,
    iconPath: PATHS.appIcon,
    settings,
    isQuitting: () => quitting,
    openExternal,
  });

  const desktopSettings = new DesktopSettingsService({
    settings,
    setLoginItemSettings: (options) => app.setLoginItemSettings(options),
    now: () => new Date(),
    changed: (current) => {
      window.send({ type: 'settings', settings: current });
      renderTray();
    },
  });
  const notifications = new NotificationService({
    Notification,
    platform: process.platform,
    now: () => new Date(),
    me: () => connection.me,
    inbox: () => connection.inbox,
    muted: () => desktopSettings.muted(),
    openRequest: (requestId, view) => window.openRequest(requestId, view),
    openInbox: () => window.show(),
    decide: (input) => connection.hub().decide(input),
  });

  const tray = new TrayService<Electron.NativeImage, Electron.Menu>({
    createTray: (image) => new Tray(image),
    buildMenu: (template) => Menu.buildFromTemplate(template),
    loadImage: (path) => nativeImage.createFromPath(path),
    iconPath: PATHS.trayIcon,
    actions: {
      openRequest: (requestId) => window.openRequest(requestId),
      openApp: () => window.show(),
      pause: (choice) => desktopSettings.pause(choice),
      resume: () => desktopSettings.resume(),
      quit: () => app.quit(),
    },
  });
  const renderTray = () => {
    const until = desktopSettings.current().pausedUntil;
    tray.render(
      trayStateFrom({
        session: connection.session,
        inbox: connection.inbox,
        me: connection.me,
        pausedUntil: until ? formatPauseEnd(new Date(until), new Date()) : null,
        theme: nativeTheme.shouldUseDarkColors ? 'dark' : 'light',
      }),
    );
  };

  connection.subscribe((event) => {
    window.send(event);
    notifications.handle(event);
    renderTray();
  });
  nativeTheme.on('updated', renderTray);
  // A connection that slept with the machine may be dead without either end knowing yet: an
  // escalation that came overnight would wait for the heartbeat to notice. Reconnect on wake.
  powerMonitor.on('resume', () => connection.reconnectNow());
  // A pause ends on its own: refresh the tooltip and menu each minute.
  setInterval(renderTray, 60_000).unref();

  registerIpc({
    ipcMain,
    isTrustedSender: trustedSender((sender) => window.owns(sender)),
    handlers: createIpcHandlers({
      connection,
      hubHttp,
      desktopSettings,
      exportAudit: createAuditExport({ hubHttp, dialog, window: () => window.current, defaultFolder: () => app.getPath('downloads') }),
      openExternal,
      rendererReady: () => window.rendererReady(),
      errands: connection.errands,
    }),
  });

  desktopSettings.applyLoginItem();
  const putOffForErrands = quitAfterErrands({ errands: connection.errands, quit: () => app.quit() });
  app.on('before-quit', (event) => {
    if (putOffForErrands(event)) return;
    quitting = true;
    notifications.closeAll();
    connection.close();
    tray.destroy();
  });
  // A quit does not wait for an export under way; its hidden half file goes with the app.
  app.on('will-quit', () => removeUnfinishedExports());
  // Keep running in the tray with no window open.
  app.on('window-all-closed', () => {});
  app.on('activate', () => window.show());

  renderTray();
  if (launch.credentials) {
    await connection
      .signIn(launch.credentials.hubUrl, launch.credentials.token, { keychain: 'if-available' })
      .catch((error: unknown) => console.error(`Greenlight: could not sign in to ${launch.credentials?.hubUrl}: ${String(error)}`));
  } else {
    await connection.restore();
  }
  if (!launch.hidden) window.show();
  return { showWindow: () => window.show() };
}
