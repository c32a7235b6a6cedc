import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import type { DesktopSession } from '../protocol/desktop-api.js';
import type { Ack } from '../protocol/events.js';
import { IPC_METHODS } from './ipc.js';
import { startShell, type ShellElectron } from './shell.js';
import { FakeIpcMain, FakeNotification, FakeSaveDialog, FakeSession, FakeTray, FakeWindow, menuItem } from './test/electron-fakes.js';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';
import { eventually } from '../server/test-support/eventually.js';

// electron-store and keytar reach for Electron and the OS keychain when loaded: both kept in memory here.
vi.mock('electron-store', () => ({
  default: class {
    private readonly data = new Map<string, unknown>();
    constructor(options: { defaults: Record<string, unknown> }) {
      for (const [key, value] of Object.entries(options.defaults)) this.data.set(key, value);
    }
    get(key: string): unknown {
      return this.data.get(key);
    }
    set(key: string, value: unknown): void {
      this.data.set(key, value);
    }
  },
}));
const secrets = new Map<string, string>();
vi.mock('keytar', () => {
  const keytar = {
    getPassword: async (service: string, account: string) => secrets.get(`${service}|${account}`) ?? null,
    setPassword: async (service: string, account: string, password: string) => void secrets.set(`${service}|${account}`, password),
    deletePassword: async (service: string, account: string) => secrets.delete(`${service}|${account}`),
  };
  // keytar is CommonJS: imported from ESM it arrives as the default export.
  return { ...keytar, default: keytar };
});

class FakeApp extends EventEmitter {
  loginItem: unknown = null;
  setLoginItemSettings(settings: unknown): void {
    this.loginItem = settings;
  }
  quit(): void {
    this.emit('before-quit');
  }
  downloads = '/nowhere';
  getPath(name: string): string {
    if (name !== 'downloads') throw new Error(`the shell asked for the ${name} path`);
    return this.downloads;
  }
}

function fakeElectron() {
  const handled = new Map<string, (request: Request) => Promise<Response>>();
  const opened: string[] = [];
  const fakes = {
    app: new FakeApp(),
    BrowserWindow: FakeWindow,
    dialog: new FakeSaveDialog('cancel'),
    Menu: { buildFromTemplate: (template: MenuItemConstructorOptions[]) => template },
    Notification: FakeNotification,
    Tray: FakeTray,
    ipcMain: new FakeIpcMain(),
    nativeImage: { createFromPath: (path: string) => path },
    nativeTheme: Object.assign(new EventEmitter(), { shouldUseDarkColors: false }),
    powerMonitor: new EventEmitter(),
    protocol: { handle: (scheme: string, handler: (request: Request) => Promise<Response>) => void handled.set(scheme, handler) },
    session: { defaultSession: new FakeSession() },
    shell: { openExternal: async (url: string) => void opened.push(url) },
  };
  // The fakes record instead of acting; their shapes are checked one by one in the other tests.
  return { fakes, electron: fakes as unknown as ShellElectron, handled, opened };
}

describe('main process wiring with Electron fakes, against a real hub', () => {
  let hub: SpawnedHub;
  beforeAll(async () => {
    hub = await spawnHub({ args: ['--log-level', 'warn'], timeoutMs: 45_000 });
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
  });

  it('starts signed out, signs in over IPC, then a new request notifies, fills the tray and the window hears of it', async () => {
    const { fakes, electron, handled } = fakeElectron();
    FakeTray.created = [];
    FakeWindow.created = [];
    FakeNotification.created = [];
    await startShell(electron, { credentials: null, userData: null, hidden: false });
    try {
      const tray = FakeTray.created[0] as FakeTray;
      const window = FakeWindow.created[0] as FakeWindow;
      expect(tray.image).toMatch(/assets\/tray\/disconnected-light\.png$/);
      expect(tray.toolTip).toBe('Greenlight — Signed out');
      expect(window.loadedUrl).toBe('app://greenlight/index.html');
      window.webContents.emit('did-finish-load');
      expect(window.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      expect(window.options.webPreferences?.preload).toMatch(/dist\/electron\/electron\/preload\/preload\.js$/);
      expect(handled.has('app')).toBe(true);
      expect(fakes.session.defaultSession.requestHandler).not.toBeNull();
      expect(fakes.ipcMain.handlers.size).toBe(IPC_METHODS.length);
      expect(fakes.app.loginItem).toEqual({ openAtLogin: false, args: ['--hidden'] });

      const bob = await hub.createUser({ name: 'shell-bob', roles: ['approver'], groups: ['approvers'] });
      const alice = await hub.createUser({ name: 'shell-alice', roles: ['requester'], groups: [] });
      const page = { contents: window.webContents, url: 'app://greenlight/index.html' };
      const signedIn = (await fakes.ipcMain.invoke('greenlight:signIn', page, { hubUrl: hub.url, token: bob.token })) as Ack<DesktopSession>;
      expect(signedIn, JSON.stringify(signedIn)).toEqual({ data: { hubUrl: hub.url, signedIn: true, state: 'connected', error: null } });
      expect(JSON.parse(secrets.get(`Greenlight|${hub.url}`) ?? 'null')).toEqual({ token: bob.token, kind: 'pasted' });
      await eventually(() => tray.image.endsWith('idle-light.png'), { what: 'the idle tray icon', deadline: 10_000, every: 25 });

      const response = await fetch(`${hub.url}/api/v1/requests`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'deploy', resource: 'payments-api', environment: 'production', reason: 'hotfix for INC-4412', risk: 'high' }),
      });
      expect(response.status).toBe(201);
      const request = (await response.json()) as { id: string };

      await eventually(() => FakeNotification.created.length === 1, { what: 'one notification', deadline: 10_000, every: 25 });
      expect(FakeNotification.created[0]?.options.title).toBe('deploy payments-api → production');
      expect(tray.image).toMatch(/pending-light\.png$/);
      expect(tray.toolTip).toBe('Greenlight — 1 request waiting on you');
      expect(window.webContents.sent.some((sent) => (sent.payload as { type?: string }).type === 'request:created')).toBe(true);

      // The notification's click shows the request in the window.
      FakeNotification.created[0]?.click();
      expect(window.webContents.sent.at(-1)).toEqual({ channel: 'greenlight:event', payload: { type: 'open-request', requestId: request.id } });

      // Pausing from the tray is remembered and shown.
      const pause = menuItem(tray.menu, 'For 1 hour');
      (pause?.click as () => void)();
      expect(tray.toolTip).toMatch(/notifications paused until (tomorrow )?\d\d:\d\d$/);
      expect(window.webContents.sent.at(-1)?.payload).toMatchObject({ type: 'settings', settings: { pausedUntil: expect.any(String) } });

      // The window changes the settings over IPC: stored, applied to the OS, and the tray follows.
      const updated = (await fakes.ipcMain.invoke('greenlight:updateSettings', page, { pausedUntil: null, launchAtLogin: true })) as Ack<unknown>;
      expect(updated).toEqual({ data: { hubUrl: hub.url, notificationsEnabled: true, pausedUntil: null, launchAtLogin: true } });
      expect(fakes.app.loginItem).toEqual({ openAtLogin: true, args: ['--hidden'] });
      expect(tray.toolTip).toBe('Greenlight — 1 request waiting on you');

      const decided = (await fakes.ipcMain.invoke('greenlight:decide', page, { requestId: request.id, decision: 'approve' })) as Ack<{ status: string }>;
      expect(decided).toMatchObject({ data: { status: 'approved' } });
      await eventually(() => tray.image.endsWith('idle-light.png'), { what: 'the idle tray icon', deadline: 10_000, every: 25 });
      expect(FakeNotification.created[0]?.closed).toBe(true);

      const signedOut = (await fakes.ipcMain.invoke('greenlight:signOut', page)) as Ack<DesktopSession>;
      expect(signedOut).toMatchObject({ data: { signedIn: false, state: 'signed-out' } });
      expect(secrets.has(`Greenlight|${hub.url}`)).toBe(false);
      expect(tray.image).toMatch(/disconnected-light\.png$/);
    } finally {
      fakes.app.quit();
    }
  });

  it('signs in at launch with the credentials npm start hands over', async () => {
    const { fakes, electron } = fakeElectron();
    FakeTray.created = [];
    FakeWindow.created = [];
    const carol = await hub.createUser({ name: 'shell-carol', roles: ['approver'], groups: ['approvers'] });
    await startShell(electron, { credentials: { hubUrl: hub.url, token: carol.token }, userData: null, hidden: true });
    try {
      expect(FakeTray.created[0]?.image).toMatch(/idle-light\.png$/);
      expect(FakeWindow.created.filter((window) => window.visible)).toEqual([]);
      expect(JSON.parse(secrets.get(`Greenlight|${hub.url}`) ?? 'null')).toEqual({ token: carol.token, kind: 'pasted' });
    } finally {
      fakes.app.quit();
    }
  });

  it('exports the audit log into the file chosen in a save dialog on the app window, opened in Downloads', async () => {
    const { fakes, electron } = fakeElectron();
    FakeWindow.created = [];
    const folder = mkdtempSync(path.join(tmpdir(), 'greenlight-shell-export-'));
    fakes.app.downloads = folder;
    fakes.dialog.answer = { filePath: path.join(folder, 'audit.jsonl') };
    await hub.createUser({ name: 'shell-erin', roles: ['requester'], groups: [] });
    await startShell(electron, { credentials: { hubUrl: hub.url, token: hub.adminToken }, userData: null, hidden: false });
    try {
      const window = FakeWindow.created[0] as FakeWindow;
      const page = { contents: window.webContents, url: 'app://greenlight/index.html' };
      const ack = (await fakes.ipcMain.invoke('greenlight:exportAudit', page, { query: 'type=user.created', format: 'jsonl' })) as Ack<unknown>;
      expect(ack).toEqual({ data: { outcome: 'saved', path: path.join(folder, 'audit.jsonl'), events: expect.any(Number) } });
      const lines = readFileSync(path.join(folder, 'audit.jsonl'), 'utf8').trimEnd().split('\n');
      expect(lines.map((line) => (JSON.parse(line) as { type: string }).type).every((type) => type === 'user.created')).toBe(true);
      expect((ack as { data: { events: number } }).data.events).toBe(lines.length);
      expect(fakes.dialog.asked).toHaveLength(1);
      expect(fakes.dialog.asked[0]?.window).toBe(window);
      expect(fakes.dialog.asked[0]?.options.defaultPath).toMatch(new RegExp(`^${folder}/greenlight-audit-.+\\.jsonl$`));
    } finally {
      fakes.app.quit();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reconnects and syncs at once when the machine wakes from sleep', async () => {
    const { fakes, electron } = fakeElectron();
    FakeWindow.created = [];
    const dave = await hub.createUser({ name: 'shell-dave', roles: ['approver'], groups: ['approvers'] });
    await startShell(electron, { credentials: { hubUrl: hub.url, token: dave.token }, userData: null, hidden: false });
    try {
      const window = FakeWindow.created[0] as FakeWindow;
      window.webContents.emit('did-finish-load');
      const events = () => window.webContents.sent.map((sent) => sent.payload as { type?: string; session?: { state?: string } });
      const before = events().length;

      fakes.powerMonitor.emit('resume');

      const after = () => events().slice(before);
      await eventually(() => after().some((event) => event.type === 'sync'), { what: 'a sync after the wake', deadline: 10_000, every: 25 });
      expect(after().map((event) => event.session?.state ?? event.type)).toEqual(expect.arrayContaining(['reconnecting', 'connected', 'sync']));
    } finally {
      fakes.app.quit();
    }
  });
});
