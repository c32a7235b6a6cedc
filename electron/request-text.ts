import type { GreenlightRequest } from '../protocol/request.js';
import { describeDeadline, nextDeadline } from '../protocol/urgency.js';

/** "deploy payments-api → production" */
export function requestTitle(request: Pick<GreenlightRequest, 'action' | 'resource' | 'environment'>): string {
  return `${request.action} ${request.resource} → ${request.environment}`;
}

/** "in 4 min", "in 2 h", "now" */
export function formatIn(ms: number): string {
  if (ms <= 30_000) return 'now';
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `in ${Math.max(1, minutes)} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} h`;
  return `in ${Math.round(hours / 24)} days`;
}

/** "alice: hotfix for INC-4412 · risk high · escalates in 4 min" */
export function requestBody(request: GreenlightRequest, now: Date): string {
  const parts = [`${request.requester}: ${oneLine(request.reason, 120)}`, `risk ${request.risk}`];
  const deadline = nextDeadline(request);
  if (deadline) parts.push(describeDeadline(deadline, formatIn(Date.parse(deadline.at) - now.getTime())));
  return parts.join(' · ');
}

/** Text someone typed, as one line of at most `max` characters: a notification shows it, never lays it out. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * A notification body as the platform shows it. Linux notification daemons read the body as markup
 * (libnotify's <b>, <a href>), so there the text someone typed is escaped to show as written.
 */
export function notificationBody(text: string, platform: NodeJS.Platform): string {
  return platform === 'linux' ? text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : text;
}
