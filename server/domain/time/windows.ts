import type { AccessWindow, Weekday } from '../../../protocol/index.js';
import { zoneClock } from './zone-clock.js';

/** One concrete occurrence of a recurring window, as instants (ms since the epoch), end exclusive. */
export interface Interval {
  start: number;
  end: number;
}

const WEEKDAY_NUMBER: Record<Weekday, number> = { mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7 };
const DAY_MS = 86_400_000;

/** The time of day written as HH:MM, in ms after midnight. */
function msIntoDay(text: string): number {
  const [hour = 0, minute = 0] = text.split(':').map(Number);
  return (hour * 60 + minute) * 60_000;
}

/** 1 for Monday … 7 for Sunday, for a date held as the wall ms of its midnight. */
const weekdayOf = (date: number) => ((new Date(date).getUTCDay() + 6) % 7) + 1;

/**
 * The occurrences of one window that start on local days from `fromMs` − 1 day to `untilMs` (so one
 * wrapping past midnight from the day before is included).
 *
 * A window is open exactly while the clock in its zone shows a time from `from` up to `to`. So on a
 * spring-forward day a window starting in the skipped time opens when the clock jumps past it, one
 * ending in it closes there, and one wholly inside it does not occur. On a fall-back day a window
 * spanning the repeated time lasts the extra time it really lasts; one ending where the clock turns
 * back closes the first time the clock shows its end; one ending inside the repeated time closes at
 * its end, then opens again while the clock shows its hours a second time; and one starting inside
 * it occurs twice, before and after the clock turns back, and is closed while the clock shows the
 * times before its start again.
 */
export function occurrencesOf(window: AccessWindow, fromMs: number, untilMs: number): Interval[] {
  const clock = zoneClock(window.timezone);
  const days = new Set(window.days.map((day) => WEEKDAY_NUMBER[day]));
  const from = msIntoDay(window.from);
  const to = msIntoDay(window.to);
  const wraps = to <= from;
  const dateOf = (instant: number) => Math.floor(clock.wallAt(instant) / DAY_MS) * DAY_MS;
  const result: Interval[] = [];
  for (let date = dateOf(fromMs) - DAY_MS, last = dateOf(untilMs); date <= last; date += DAY_MS) {
    if (days.has(weekdayOf(date))) result.push(...clock.showing(date + from, date + (wraps ? DAY_MS : 0) + to));
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
