import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { WebContents } from 'electron';
import type { SettingsData } from './settings.js';
import { MainWindow, mainWindowOptions } from './window.js';
import { FakeWindow } from './test/electron-fakes.js';
import { memorySettings } from './test/memory.js';

function setup(initial: Partial<SettingsData> = {}) {
  let quitting = false;
  const opened: string[] = [];
  const { settings, data } = memorySettings(initial);
  const main = new MainWindow({
    createWindow: (options) => new FakeWindow(options),
    preloadPath: '/app/dist/electron/electron/preload.cjs',
    iconPath: '/app/assets/icon.png',
    settings,
    isQuitting: () => quitting,
    openExternal: async (url) => {
      opened.push(url);
    },
  });
  return { main, opened, data, quit: () => (quitting = true), window: () => FakeWindow.created.at(-1) as FakeWindow };
}

beforeEach(() => {
  FakeWindow.created = [];
});

describe('main window with Electron fakes', () => {
  it('window options meet the security list', () => {
    const options = mainWindowOptions({ preloadPath: '/p/preload.cjs', iconPath: '/i.png', bounds: null });
    expect(options.webPreferences).toMatchObject({
      preload: '/p/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(options.show).toBe(false);
  });

  it('restores the saved bounds', () => {
    const options = mainWindowOptions({ preloadPath: '/p', iconPath: '/i', bounds: { x: 5, y: 6, width: 900, height: 700 } });
    expect(options).toMatchObject({ x: 5, y: 6, width: 900, height: 700 });
  });

  it('loads the app from app://greenlight, never from the network', () => {
    const { main, window } = setup();
    main.show();
    expect(window().loadedUrl).toBe('app://greenlight/index.html');
    expect(window().visible).toBe(true);
  });

  it('close hides to the tray; after Quit it really closes', () => {
    const { main, window, quit } = setup();
    main.show();
    expect(window().tryClose()).toBe(true);
    expect(window().visible).toBe(false);
    main.show();
    expect(FakeWindow.created).toHaveLength(1);
    quit();
    expect(window().tryClose()).toBe(false);
    main.show();
    expect(FakeWindow.created).toHaveLength(2);
  });

  it('denies window.open and hands http(s) links to the OS browser', async () => {
    const { main, window, opened } = setup();
    main.show();
    const handler = window().webContents.openHandler;
    expect(handler?.({ url: 'https://ci.example.com/run/1' } as Parameters<NonNullable<typeof handler>>[0])).toEqual({ action: 'deny' });
    expect(handler?.({ url: 'file:///etc/passwd' } as Parameters<NonNullable<typeof handler>>[0])).toEqual({ action: 'deny' });
    await Promise.resolve();
    expect(opened).toEqual(['https://ci.example.com/run/1']);
  });

  it('blocks navigation away from the app and webviews', async () => {
    const { main, window, opened } = setup();
    main.show();
    const contents = window().webContents;
    expect(contents.navigate('will-navigate', 'app://greenlight/index.html')).toBe(false);
    expect(contents.navigate('will-navigate', 'https://evil.example.com')).toBe(true);
    expect(contents.navigate('will-redirect', 'http://evil.example.com')).toBe(true);
    expect(contents.navigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(contents.navigate('will-navigate', 'app://other/index.html')).toBe(true);
    expect(contents.navigate('will-attach-webview', 'https://x')).toBe(true);
    await Promise.resolve();
    expect(opened).toEqual(['https://evil.example.com/', 'http://evil.example.com/']);
  });

  it('opening a request from a notification shows the window and tells the page once it listens', () => {
    const { main, window } = setup();
    main.openRequest('req_1');
    expect(window().visible).toBe(true);
    expect(window().webContents.sent).toEqual([]);
    main.rendererReady();
    main.rendererReady();
    expect(window().webContents.sent).toEqual([{ channel: 'greenlight:event', payload: { type: 'open-request', requestId: 'req_1' } }]);
    main.openRequest('req_2');
    expect(window().webContents.sent.at(-1)).toEqual({ channel: 'greenlight:event', payload: { type: 'open-request', requestId: 'req_2' } });
  });

  it('knows its own web contents from any other', () => {
    const { main, window } = setup();
    main.show();
    expect(main.owns(window().webContents)).toBe(true);
    expect(main.owns({ id: 9999 } as Pick<WebContents, 'id'>)).toBe(false);
  });

  it('remembers the window bounds', () => {
    vi.useFakeTimers();
    try {
      const { main, window, data } = setup();
      main.show();
      window().bounds = { x: 10, y: 20, width: 1000, height: 700 };
      window().emit('resize');
      vi.advanceTimersByTime(600);
      expect(data.get('windowBounds')).toEqual({ x: 10, y: 20, width: 1000, height: 700 });
    } finally {
      vi.useRealTimers();
    }
  });
});
