import { EventEmitter } from 'node:events';
import type { MenuItemConstructorOptions, NotificationConstructorOptions } from 'electron';
import type { NotificationCtor, NotificationLike } from '../notifications.js';
import type { TrayLike } from '../tray.js';

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
