import { formatDuration } from '../../../protocol/duration.js';
import type { GreenlightRequest } from '../../../protocol/request.js';

/** The viewer's offset from UTC at that moment, as "UTC+01:00" (from the platform's time-zone data). */
export function offsetLabel(date: Date): string {
  const part = new Intl.DateTimeFormat('en', { timeZoneName: 'longOffset' }).formatToParts(date).find((p) => p.type === 'timeZoneName');
  const text = part?.value ?? 'GMT';
  return text === 'GMT' ? 'UTC' : text.replace('GMT', 'UTC');
}

const two = (n: number) => String(n).padStart(2, '0');

/** An instant as a `datetime-local` input shows it: the viewer's wall-clock time, no offset. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** A `datetime-local` value read as the viewer's local time; null when it is not a date and time. */
export function fromLocalInput(value: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "23:00", in the viewer's time. */
export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

/**
 * When access runs: the grant's times once issued; before that, the asked-for start (or now, once it
 * has passed: access never starts before the approval) for the asked-for TTL, capped by the rule.
 */
export function accessTimes(request: GreenlightRequest, now: number): { start: string; end: string } | null {
  if (request.grant) return { start: request.grant.notBefore ?? request.grant.issuedAt, end: request.grant.expiresAt };
  if (!request.notBefore) return null;
  const start = Math.max(Date.parse(request.notBefore), now);
  const seconds = Math.min(request.requestedTtlSeconds ?? request.rule.grantTtlSeconds, request.rule.grantTtlSeconds);
  return { start: new Date(start).toISOString(), end: new Date(start + seconds * 1000).toISOString() };
}

/** "starts in 7h · runs 23:00–01:00" for scheduled access; null for access that starts on approval. */
export function scheduleLine(request: GreenlightRequest, now: number): string | null {
  if (!request.notBefore) return null;
  const times = accessTimes(request, now);
  if (!times) return null;
  const runs = `runs ${clockTime(times.start)}–${clockTime(times.end)}`;
  const ahead = Math.round((Date.parse(times.start) - now) / 1000);
  return ahead > 0 ? `starts in ${formatDuration(ahead)} · ${runs}` : runs;
}
