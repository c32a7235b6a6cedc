import { DateTime } from 'luxon';
import type { AccessWindow, Weekday } from '../../../protocol/index.js';

/** One concrete occurrence of a recurring window, as instants (ms since the epoch), end exclusive. */
export interface Interval {
  start: number;
  end: number;
}

const WEEKDAY_NUMBER: Record<Weekday, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const DAY_MS = 86_400_000;

function clockOf(text: string): { hour: number; minute: number } {
  const [hour = 0, minute = 0] = text.split(':').map(Number);
  return { hour, minute };
}

/**
 * The occurrences of one window that start on local days from `fromMs` − 1 day to `untilMs` (so one
 * wrapping past midnight from the day before is included). Local times are resolved by luxon in the
 * window's zone: a start in a spring-forward gap moves to the first valid time after it, and on the
 * fall-back day the window lasts the extra hour it really lasts.
 */
export function occurrencesOf(window: AccessWindow, fromMs: number, untilMs: number): Interval[] {
  const days = new Set(window.days.map((day) => WEEKDAY_NUMBER[day]));
  const from = clockOf(window.from);
  const to = clockOf(window.to);
  const wraps = window.to <= window.from;
  const result: Interval[] = [];
  let day = DateTime.fromMillis(fromMs, { zone: window.timezone }).startOf('day').minus({ days: 1 });
  while (day.toMillis() <= untilMs) {
    if (days.has(day.weekday)) {
      const start = day.set({ hour: from.hour, minute: from.minute });
      const endDay = wraps ? day.plus({ days: 1 }) : day;
      const end = endDay.set({ hour: to.hour, minute: to.minute });
      if (end.toMillis() > start.toMillis()) result.push({ start: start.toMillis(), end: end.toMillis() });
    }
    day = day.plus({ days: 1 });
  }
  return result;
}

/** Every window's occurrences touching [fromMs, untilMs], sorted, with overlapping or touching ones merged. */
export function mergedOccurrences(windows: readonly AccessWindow[], fromMs: number, untilMs: number): Interval[] {
  const all = windows.flatMap((window) => occurrencesOf(window, fromMs, untilMs)).sort((a, b) => a.start - b.start);
  const merged: Interval[] = [];
  for (const next of all) {
    const last = merged[merged.length - 1];
    if (last && next.start <= last.end) last.end = Math.max(last.end, next.end);
    else merged.push({ ...next });
  }
  return merged.filter((interval) => interval.end > fromMs && interval.start <= untilMs);
}

/**
 * Cuts access [start, end) to the first window occurrence it overlaps: the result lies inside both,
 * never wider than either. Null when the access touches no window at all.
 */
export function cutToWindow(windows: readonly AccessWindow[], access: Interval): Interval | null {
  if (windows.length === 0) return access;
  const hit = mergedOccurrences(windows, access.start, access.end).find((interval) => interval.start < access.end && interval.end > access.start);
  return hit ? { start: Math.max(hit.start, access.start), end: Math.min(hit.end, access.end) } : null;
}

/** The first window start at or after `afterMs` (within the next eight days, when every window recurs weekly); null for no windows. */
export function nextWindowStart(windows: readonly AccessWindow[], afterMs: number): number | null {
  const starts = mergedOccurrences(windows, afterMs, afterMs + 8 * DAY_MS)
    .map((interval) => interval.start)
    .filter((start) => start >= afterMs);
  return starts.length ? Math.min(...starts) : null;
}
