import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import type { DesktopSettings } from '../../../protocol/desktop-api.js';
import { ChannelReach } from '../components/ChannelReach.js';
import { Switch } from '../components/Switch.js';
import { AwaySection } from '../components/AwaySection.js';
import { TokensPanel } from '../components/TokensPanel.js';
import { isPaused, pauseEndText } from '../lib/pause.js';
import {
  SETTINGS_PENDING,
  loadSettings,
  pauseNotifications,
  resumeNotifications,
  setLaunchAtLogin,
  setNotificationsEnabled,
  settingsAvailable,
} from '../store/settings-actions.js';
import { useStore } from '../store/store.js';

/** This machine's clock (not the hub's): a pause ends by the clock the desktop app reads. */
function useLocalNow(intervalMs: number): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

export function SettingsView() {
  const available = settingsAvailable();
  const { settings, busy } = useStore(useShallow((state) => ({ settings: state.settings, busy: state.pending[SETTINGS_PENDING] === true })));
  const me = useStore((state) => state.me);
  useEffect(() => {
    if (available) void loadSettings();
  }, [available]);

  return (
    <div className="narrow settings">
      <h2>Settings</h2>
      <ChannelReach />
      {!available ? (
        <p className="muted">
          Desktop notifications, pausing them and launching at login are settings of the Greenlight desktop app; they are not available in the web
          console.
        </p>
      ) : !settings ? (
        <p className="muted" aria-busy="true">
          Reading the settings…
        </p>
      ) : (
        <DesktopSettingsForm settings={settings} busy={busy} />
      )}
      {me && me.roles.some((role) => role !== 'requester') && <AwaySection me={me.name} />}
      <TokensPanel />
    </div>
  );
}

function DesktopSettingsForm({ settings, busy }: { settings: DesktopSettings; busy: boolean }) {
  const now = useLocalNow(15_000);
  const paused = isPaused(settings.pausedUntil, now) ? settings.pausedUntil : null;
  const status = !settings.notificationsEnabled
    ? 'Notifications are off.'
    : paused
      ? `Notifications paused until ${pauseEndText(paused, now)}.`
      : 'Notifications are on.';
  return (
    <>
      <section className="card settings-section" aria-labelledby="settings-notifications">
        <h3 id="settings-notifications">Notifications</h3>
        <Switch
          label="Desktop notifications"
          hint="A native notification when a request needs your decision, even with the window closed."
          checked={settings.notificationsEnabled}
          disabled={busy}
          onChange={(enabled) => void setNotificationsEnabled(enabled)}
        />
        <p role="status" className="settings-status">
          {status}
        </p>
        <div className="actions" role="group" aria-label="Pause notifications">
          <button type="button" disabled={busy || !settings.notificationsEnabled} onClick={() => void pauseNotifications('1h')}>
            Pause for 1 hour
          </button>
          <button type="button" disabled={busy || !settings.notificationsEnabled} onClick={() => void pauseNotifications('tomorrow')}>
            Pause until tomorrow 08:00
          </button>
          <button type="button" disabled={busy || !paused} onClick={() => void resumeNotifications()}>
            Resume notifications
          </button>
        </div>
      </section>
      <section className="card settings-section" aria-labelledby="settings-startup">
        <h3 id="settings-startup">Start-up</h3>
        <Switch
          label="Launch Greenlight at login"
          hint="Starts in the tray, so requests reach you without opening the window."
          checked={settings.launchAtLogin}
          disabled={busy}
          onChange={(enabled) => void setLaunchAtLogin(enabled)}
        />
      </section>
      <section className="card settings-section" aria-labelledby="settings-hub">
        <h3 id="settings-hub">Hub</h3>
        <p>
          Signed in to <span className="mono">{settings.hubUrl ?? 'no hub'}</span>. To use another hub, sign out and sign in there.
        </p>
      </section>
    </>
  );
}
