import type { DesktopSettingsUpdate } from '../../../protocol/desktop-api.js';
import { actionMessage, loadMessage, toWireError } from '../lib/errors.js';
import { pauseEnd, type PauseChoice } from '../lib/pause.js';
import { getBridge, notify } from './actions.js';
import { useStore } from './store.js';

/** The busy key the settings controls share: one change at a time. */
export const SETTINGS_PENDING = 'settings';

/** Only the desktop app has settings of its own; the web console shows a note instead. */
export function settingsAvailable(): boolean {
  return getBridge().supportsDesktopSettings;
}

export async function loadSettings(): Promise<void> {
  const host = getBridge();
  if (!host.supportsDesktopSettings) return;
  try {
    useStore.setState({ settings: await host.getSettings() });
  } catch (error) {
    notify('error', `Could not read the settings: ${loadMessage(toWireError(error))}`);
  }
}

function setBusy(busy: boolean): void {
  useStore.setState((state) => {
    const { [SETTINGS_PENDING]: _was, ...rest } = state.pending;
    return { pending: busy ? { ...rest, [SETTINGS_PENDING]: true } : rest };
  });
}

/**
 * Sends one change; the store shows what main answers, not what was asked. Resolves whether it worked.
 * Success needs no notice: the view's status line (a live region) already says what changed.
 */
async function update(input: DesktopSettingsUpdate): Promise<boolean> {
  setBusy(true);
  try {
    useStore.setState({ settings: await getBridge().updateSettings(input) });
    return true;
  } catch (error) {
    notify('error', actionMessage(toWireError(error)));
    return false;
  } finally {
    setBusy(false);
  }
}

export const setNotificationsEnabled = (enabled: boolean) => update({ notificationsEnabled: enabled });

export const setLaunchAtLogin = (enabled: boolean) => update({ launchAtLogin: enabled });

export const pauseNotifications = (choice: PauseChoice, now: Date = new Date()) => update({ pausedUntil: pauseEnd(choice, now).toISOString() });

export const resumeNotifications = () => update({ pausedUntil: null });
