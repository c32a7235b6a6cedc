import type { App } from 'electron';
import type { DesktopSettings, DesktopSettingsUpdate } from '../protocol/desktop-api.js';
import { isPaused, pauseUntil, type PauseChoice } from './pause.js';
import type { Settings } from './settings.js';

export interface DesktopSettingsDeps {
  settings: Pick<Settings, 'get' | 'set'>;
  setLoginItemSettings: App['setLoginItemSettings'];
  now: () => Date;
  /** After every change, from the window or the tray: push it to the page and re-render the tray. */
  changed: (settings: DesktopSettings) => void;
}

/** Started at login, the app goes straight to the tray. */
export const LOGIN_ARGS = ['--hidden'];

/**
 * The settings the person changes (notifications, pause, launch at login): one place that writes
 * them, applies them to the OS and announces the change, whichever surface asked.
 */
export class DesktopSettingsService {
  constructor(private readonly deps: DesktopSettingsDeps) {}

  current(): DesktopSettings {
    const { settings } = this.deps;
    const until = settings.get('pausedUntil');
    return {
      hubUrl: settings.get('hubUrl'),
      notificationsEnabled: settings.get('notificationsEnabled'),
      pausedUntil: isPaused(until, this.deps.now()) ? until : null,
      launchAtLogin: settings.get('launchAtLogin'),
    };
  }

  /** True when no notification should be shown: switched off, or paused. */
  muted(): boolean {
    const current = this.current();
    return !current.notificationsEnabled || current.pausedUntil !== null;
  }

  /** Applies the stored launch-at-login choice to the OS (at start; the user may have changed it elsewhere). */
  applyLoginItem(): void {
    this.deps.setLoginItemSettings({ openAtLogin: this.deps.settings.get('launchAtLogin'), args: LOGIN_ARGS });
  }

  /** Input arrives parsed (ipc-schemas.ts). The OS is asked first, so a refusal there changes nothing. */
  update(input: DesktopSettingsUpdate): DesktopSettings {
    const { settings } = this.deps;
    if (input.launchAtLogin !== undefined) {
      this.deps.setLoginItemSettings({ openAtLogin: input.launchAtLogin, args: LOGIN_ARGS });
      settings.set('launchAtLogin', input.launchAtLogin);
    }
    if (input.notificationsEnabled !== undefined) settings.set('notificationsEnabled', input.notificationsEnabled);
    if (input.pausedUntil !== undefined) settings.set('pausedUntil', input.pausedUntil);
    const current = this.current();
    this.deps.changed(current);
    return current;
  }

  /** The tray's "Pause notifications" items. */
  pause(choice: PauseChoice): DesktopSettings {
    return this.update({ pausedUntil: pauseUntil(choice, this.deps.now()).toISOString() });
  }

  resume(): DesktopSettings {
    return this.update({ pausedUntil: null });
  }
}
