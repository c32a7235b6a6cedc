import { EventEmitter } from 'node:events';
import type { BaseWindow, BrowserWindowConstructorOptions, Dialog, IpcMain, IpcMainInvokeEvent, MenuItemConstructorOptions, NotificationConstructorOptions, Rectangle, SaveDialogOptions, SaveDialogReturnValue, Session, WebContents, WebRequestFilter } from 'electron';
import type { NotificationCtor, NotificationLike } from '../notifications.js';
import type { TrayLike } from '../tray.js';
import type { BeforeRequestListener, GuardedSession } from '../web-security.js';
import type { WindowLike } from '../window.js';

/** A recording stand-in for Electron's Notification; an EventEmitter, like the real one. */
export class FakeNotification extends EventEmitter implements NotificationLike {
  static created: FakeNotification[] = [];
  static supported = true;
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  shown = false;
  closed = false;
  constructor(readonly options: NotificationConstructorOptions) {
    super();
    FakeNotification.created.push(this);
  }
  show(): void {
    this.shown = true;
  }
  close(): void {
    this.closed = true;
  }
  click(): void {
    this.emit('click', {});
  }
  action(actionIndex: number): void {
    this.emit('action', { actionIndex, selectionIndex: -1 }, actionIndex, -1);
  }
}

export const fakeNotificationCtor: NotificationCtor = FakeNotification;

/** A recording Tray: images are their paths, menus are their templates. */
export class FakeTray implements TrayLike<string, MenuItemConstructorOptions[]> {
  static created: FakeTray[] = [];
  image: string;
  toolTip = '';
  menu: MenuItemConstructorOptions[] | null = null;
  calls: string[] = [];
  destroyed = false;
  private clickListeners: (() => void)[] = [];
  constructor(image: string) {
    this.image = image;
    FakeTray.created.push(this);
  }
  setImage(image: string): void {
    this.calls.push('setImage');
    this.image = image;
  }
  setToolTip(toolTip: string): void {
    this.calls.push('setToolTip');
    this.toolTip = toolTip;
  }
  setContextMenu(menu: MenuItemConstructorOptions[] | null): void {
    this.calls.push('setContextMenu');
    this.menu = menu;
  }
  on(_event: 'click', listener: () => void): this {
    this.clickListeners.push(listener);
    return this;
  }
  click(): void {
    for (const listener of this.clickListeners) listener();
  }
  destroy(): void {
    this.destroyed = true;
  }
}

/** Finds a menu item by label, looking into submenus. */
export function menuItem(menu: MenuItemConstructorOptions[] | null, label: string): MenuItemConstructorOptions | undefined {
  for (const item of menu ?? []) {
    if (item.label === label) return item;
    if (Array.isArray(item.submenu)) {
      const found = menuItem(item.submenu as MenuItemConstructorOptions[], label);
      if (found) return found;
    }
  }
  return undefined;
}

/** Clicks a recorded menu item the way Electron would. */
export function clickItem(item: MenuItemConstructorOptions | undefined): void {
  if (!item?.click) throw new Error(`menu item ${item?.label ?? '(missing)'} has no click handler`);
  (item.click as () => void)();
}

type OpenHandler = Parameters<WebContents['setWindowOpenHandler']>[0];
type NavigationDetails = { url: string; preventDefault(): void };

/** A recording WebContents: remembers its window-open handler, listeners and what it sent. */
export class FakeWebContents extends EventEmitter {
  static nextId = 1;
  readonly id = FakeWebContents.nextId++;
  openHandler: OpenHandler | null = null;
  sent: { channel: string; payload: unknown }[] = [];
  url = 'app://greenlight/index.html';
  setWindowOpenHandler(handler: OpenHandler): void {
    this.openHandler = handler;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, payload: args[0] });
  }
  getURL(): string {
    return this.url;
  }
  /** Emits a navigation event and says whether a listener prevented it. */
  navigate(event: 'will-navigate' | 'will-redirect' | 'will-attach-webview', url: string): boolean {
    let prevented = false;
    const details: NavigationDetails = { url, preventDefault: () => (prevented = true) };
    this.emit(event, details);
    return prevented;
  }
}

/** A recording BrowserWindow. */
export class FakeWindow extends EventEmitter implements WindowLike {
  static created: FakeWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  minimized = false;
  destroyed = false;
  loadedUrl: string | null = null;
  bounds = { x: 0, y: 0, width: 1180, height: 780 };
  constructor(readonly options: BrowserWindowConstructorOptions) {
    super();
    FakeWindow.created.push(this);
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  focus(): void {}
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.minimized = false;
  }
  isVisible(): boolean {
    return this.visible;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  getBounds(): Rectangle {
    return this.bounds;
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
  }
  /** Emits 'close' as the window manager would; returns whether the app kept the window. */
  tryClose(): boolean {
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (!prevented) {
      this.destroyed = true;
      this.emit('closed');
    }
    return prevented;
  }
}

type PermissionRequestHandler = NonNullable<Parameters<Session['setPermissionRequestHandler']>[0]>;
type PermissionCheckHandler = NonNullable<Parameters<Session['setPermissionCheckHandler']>[0]>;

/** A recording Session. */
export class FakeSession implements GuardedSession {
  requestHandler: PermissionRequestHandler | null = null;
  checkHandler: PermissionCheckHandler | null = null;
  beforeRequest: { filter: WebRequestFilter; listener: BeforeRequestListener } | null = null;
  setPermissionRequestHandler(handler: PermissionRequestHandler | null): void {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: PermissionCheckHandler | null): void {
    this.checkHandler = handler;
  }
  webRequest = {
    onBeforeRequest: (filter: WebRequestFilter, listener: BeforeRequestListener): void => {
      this.beforeRequest = { filter, listener };
    },
  };
}

type InvokeListener = Parameters<IpcMain['handle']>[1];

/** A recording ipcMain: tests call `invoke` as the preload would, with a chosen sender. */
export class FakeIpcMain implements Pick<IpcMain, 'handle' | 'removeHandler'> {
  readonly handlers = new Map<string, InvokeListener>();
  handle(channel: string, listener: InvokeListener): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  async invoke(channel: string, sender: { contents: FakeWebContents; url: string; subframe?: boolean }, arg?: unknown): Promise<unknown> {
    const listener = this.handlers.get(channel);
    if (!listener) throw new Error(`No handler registered for '${channel}'`);
    const senderFrame = { url: sender.url, parent: sender.subframe ? {} : null };
    return listener({ sender: sender.contents, senderFrame } as unknown as IpcMainInvokeEvent, arg);
  }
}

/** A stand-in for Electron's save dialog: records what it was asked and answers as told (a path, or cancel). */
export class FakeSaveDialog implements Pick<Dialog, 'showSaveDialog'> {
  readonly asked: { window: BaseWindow | null; options: SaveDialogOptions }[] = [];
  constructor(public answer: { filePath: string } | 'cancel') {}
  async showSaveDialog(windowOrOptions: BaseWindow | SaveDialogOptions, maybeOptions?: SaveDialogOptions): Promise<SaveDialogReturnValue> {
    const options = maybeOptions ?? (windowOrOptions as SaveDialogOptions);
    this.asked.push({ window: maybeOptions ? (windowOrOptions as BaseWindow) : null, options });
    return this.answer === 'cancel' ? { canceled: true, filePath: '' } : { canceled: false, filePath: this.answer.filePath };
  }
}
