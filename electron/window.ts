import type { BrowserWindow, BrowserWindowConstructorOptions, WebContents } from 'electron';
import type { DesktopEvent } from '../protocol/desktop-api.js';
import { APP_URL } from './app-origin.js';
import { EVENT_CHANNEL } from './ipc-contract.js';
import type { Settings, WindowBounds } from './settings.js';
import { guardWebContents, type GuardedContents } from './web-security.js';

export function mainWindowOptions(input: { preloadPath: string; iconPath: string; bounds: WindowBounds | null }): BrowserWindowConstructorOptions {
  const { bounds } = input;
  return {
    title: 'Greenlight',
    icon: input.iconPath,
    width: bounds?.width ?? 1180,
    height: bounds?.height ?? 780,
    ...(bounds?.x !== undefined && bounds.y !== undefined ? { x: bounds.x, y: bounds.y } : {}),
    minWidth: 720,
    minHeight: 480,
    // Shown once the page has painted, so it never flashes white.
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: input.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      experimentalFeatures: false,
      safeDialogs: true,
    },
  };
}

/** The parts of BrowserWindow we use; `on` is restated because Electron's overloads return the class. */
export interface WindowLike extends Pick<BrowserWindow, 'show' | 'hide' | 'focus' | 'isMinimized' | 'restore' | 'getBounds' | 'loadURL' | 'isDestroyed' | 'isVisible'> {
  webContents: GuardedContents & Pick<WebContents, 'send' | 'id'> & { once(event: 'did-finish-load', listener: () => void): unknown };
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
  on(event: 'resize' | 'move' | 'closed', listener: () => void): unknown;
}

export interface MainWindowDeps<W extends WindowLike> {
  createWindow(options: BrowserWindowConstructorOptions): W;
  preloadPath: string;
  iconPath: string;
  settings: Pick<Settings, 'get' | 'set'>;
  /** True once the user chose Quit: only then does closing the window really close it. */
  isQuitting(): boolean;
  openExternal(url: string): Promise<void>;
}

/**
 * The app's one window. Closing hides it to the tray; it is created on first use and re-created
 * if it was destroyed.
 */
export class MainWindow<W extends WindowLike> {
  private window: W | null = null;
  private loaded = false;
  private pendingOpen: { requestId: string; view: 'inbox' | 'mine' } | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: MainWindowDeps<W>) {}

  get current(): W | null {
    return this.window && !this.window.isDestroyed() ? this.window : null;
  }

  /** Whether an IPC message came from this window. */
  owns(contents: Pick<WebContents, 'id'>): boolean {
    return this.current?.webContents.id === contents.id;
  }

  show(): W {
    const window = this.ensure();
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
    return window;
  }

  /** Shows the window on a request: its detail in the inbox, or its card among My requests. */
  openRequest(requestId: string, view: 'inbox' | 'mine' = 'inbox'): void {
    this.show();
    if (this.loaded) this.send(openRequestEvent(requestId, view));
    // A page still loading is not listening yet: deliver once it makes its first call (see rendererReady).
    else this.pendingOpen = { requestId, view };
  }

  /** Called when the renderer made its first call, i.e. it is subscribed to events. */
  rendererReady(): void {
    this.loaded = true;
    if (!this.pendingOpen) return;
    const { requestId, view } = this.pendingOpen;
    this.pendingOpen = null;
    this.send(openRequestEvent(requestId, view));
  }

  send(event: DesktopEvent): void {
    const window = this.current;
    if (window && this.loaded) window.webContents.send(EVENT_CHANNEL, event);
  }

  private ensure(): W {
    const existing = this.current;
    if (existing) return existing;
    const window = this.deps.createWindow(
      mainWindowOptions({ preloadPath: this.deps.preloadPath, iconPath: this.deps.iconPath, bounds: this.deps.settings.get('windowBounds') }),
    );
    this.window = window;
    this.loaded = false;
    guardWebContents(window.webContents, this.deps.openExternal);
    window.on('close', (event) => {
      if (this.deps.isQuitting()) return;
      event.preventDefault();
      window.hide();
    });
    window.on('resize', () => this.saveBoundsSoon());
    window.on('move', () => this.saveBoundsSoon());
    window.on('closed', () => {
      this.window = null;
      this.loaded = false;
    });
    window.webContents.once('did-finish-load', () => {
      this.loaded = true;
    });
    void window.loadURL(new URL(APP_URL).href);
    return window;
  }

  private saveBoundsSoon(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      const window = this.current;
      if (!window) return;
      const { x, y, width, height } = window.getBounds();
      try {
        this.deps.settings.set('windowBounds', { x, y, width, height });
      } catch {
        // An odd size (a window dragged half off a tiny screen) is simply not remembered.
      }
    }, 500);
  }
}

/** The inbox is where a request opens unless said otherwise. */
const openRequestEvent = (requestId: string, view: 'inbox' | 'mine'): DesktopEvent => ({ type: 'open-request', requestId, ...(view === 'mine' ? { view } : {}) });
