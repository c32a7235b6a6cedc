import type { MenuItemConstructorOptions } from 'electron';
import type { PauseChoice } from './pause.js';
import type { Theme, TrayState, TrayStatus } from './tray-state.js';

export const MAX_MENU_REQUESTS = 10;

/** The tray calls these; main wires them to the window, the settings and the app. */
export interface TrayActions {
  openRequest(requestId: string): void;
  openApp(): void;
  pause(choice: PauseChoice): void;
  resume(): void;
  quit(): void;
}

/** The part of Electron's Tray we use, generic over image and menu so tests record plain values. */
export interface TrayLike<Image, Menu> {
  setImage(image: Image): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: Menu | null): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayDeps<Image, Menu> {
  createTray(image: Image): TrayLike<Image, Menu>;
  buildMenu(template: MenuItemConstructorOptions[]): Menu;
  loadImage(path: string): Image;
  /** Path of the @1x icon; Electron picks the @2x file beside it on high-DPI screens. */
  iconPath(status: TrayStatus, theme: Theme): string;
  actions: TrayActions;
}

const CONNECTION_TEXT: Record<TrayState['connection'], string> = {
  'signed-out': 'Signed out',
  connecting: 'Connecting to the hub…',
  reconnecting: 'Reconnecting to the hub…',
  unreachable: 'Hub unreachable',
  unauthorized: 'Sign in again',
  closed: 'Disconnected',
  connected: 'Connected',
};

export function tooltipFor(state: TrayState): string {
  let text: string;
  if (state.status === 'disconnected') text = CONNECTION_TEXT[state.connection];
  else if (state.pending.length === 0) text = 'Nothing waiting on you';
  else {
    const escalated = state.pending.filter((item) => item.escalated).length;
    text = `${state.pending.length} ${state.pending.length === 1 ? 'request' : 'requests'} waiting on you`;
    if (escalated) text += ` (${escalated} escalated)`;
  }
  if (state.pausedUntil) text += ` · notifications paused until ${state.pausedUntil}`;
  return `Greenlight — ${text}`;
}

export function menuFor(state: TrayState, actions: TrayActions): MenuItemConstructorOptions[] {
  const head: MenuItemConstructorOptions[] =
    state.status === 'disconnected'
      ? [{ label: CONNECTION_TEXT[state.connection], enabled: false }]
      : state.pending.length === 0
        ? [{ label: 'Nothing waiting on you', enabled: false }]
        : state.pending.slice(0, MAX_MENU_REQUESTS).map((item) => ({
            label: item.escalated ? `Escalated: ${item.title}` : item.title,
            click: () => actions.openRequest(item.id),
          }));
  if (state.pending.length > MAX_MENU_REQUESTS) {
    head.push({ label: `${state.pending.length - MAX_MENU_REQUESTS} more in Greenlight…`, click: () => actions.openApp() });
  }
  return [
    ...head,
    { type: 'separator' },
    { label: 'Open Greenlight', click: () => actions.openApp() },
    {
      label: state.pausedUntil ? `Notifications paused until ${state.pausedUntil}` : 'Pause notifications',
      submenu: [
        { label: 'For 1 hour', click: () => actions.pause('1h') },
        { label: 'Until tomorrow', click: () => actions.pause('tomorrow') },
        { type: 'separator' },
        { label: 'Resume notifications', enabled: state.pausedUntil !== null, click: () => actions.resume() },
      ],
    },
    { type: 'separator' },
    { label: 'Quit Greenlight', click: () => actions.quit() },
  ];
}

/** A small class with one idempotent render(): icon, tooltip and menu are rebuilt from the state. */
export class TrayService<Image, Menu> {
  private tray: TrayLike<Image, Menu> | null = null;
  private last: string | null = null;

  constructor(private readonly deps: TrayDeps<Image, Menu>) {}

  render(state: TrayState): void {
    const key = JSON.stringify(state);
    if (key === this.last && this.tray) return;
    this.last = key;
    const image = this.deps.loadImage(this.deps.iconPath(state.status, state.theme));
    if (!this.tray) {
      this.tray = this.deps.createTray(image);
      this.tray.on('click', () => this.deps.actions.openApp());
    } else {
      this.tray.setImage(image);
    }
    this.tray.setToolTip(tooltipFor(state));
    // Linux app indicators show only the context menu, never a click: everything lives in the menu.
    this.tray.setContextMenu(this.deps.buildMenu(menuFor(state, this.deps.actions)));
  }

  destroy(): void {
    this.tray?.destroy();
    this.tray = null;
    this.last = null;
  }
}
