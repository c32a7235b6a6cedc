import type { DesktopSession } from '../protocol/desktop-api.js';
import type { GreenlightRequest } from '../protocol/request.js';
import { escalatedToMe, type Me } from './me.js';
import { requestTitle } from './request-text.js';

export const TRAY_STATUSES = ['idle', 'pending', 'escalated', 'disconnected'] as const;
export type TrayStatus = (typeof TRAY_STATUSES)[number];
export type Theme = 'light' | 'dark';

/** Everything the tray shows, as plain data: render() of equal states is a no-op. */
export interface TrayState {
  status: TrayStatus;
  connection: DesktopSession['state'];
  /** Most urgent first. */
  pending: { id: string; title: string; escalated: boolean }[];
  /** The pause's end as text ("19:30"), or null when not paused. */
  pausedUntil: string | null;
  theme: Theme;
}

export function trayStateFrom(input: {
  session: DesktopSession;
  inbox: GreenlightRequest[];
  me: Me | null;
  pausedUntil: string | null;
  theme: Theme;
}): TrayState {
  const connected = input.session.state === 'connected';
  const pending = connected
    ? input.inbox.map((request) => ({
        id: request.id,
        title: requestTitle(request),
        escalated: input.me !== null && escalatedToMe(request, input.me),
      }))
    : [];
  const status: TrayStatus = !connected
    ? 'disconnected'
    : pending.some((item) => item.escalated)
      ? 'escalated'
      : pending.length > 0
        ? 'pending'
        : 'idle';
  return { status, connection: input.session.state, pending, pausedUntil: input.pausedUntil, theme: input.theme };
}
