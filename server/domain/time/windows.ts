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
  return [...occurrencesByDay(window, fromMs, untilMs)];
}

/** occurrencesOf's occurrences in order, each local day's built only when the one before has been taken. */
function* occurrencesByDay(window: AccessWindow, fromMs: number, untilMs: number): Generator<Interval> {
  const clock = zoneClock(window.timezone);
  const days = new Set(window.days.map((day) => WEEKDAY_NUMBER[day]));
  const from = msIntoDay(window.from);
  const to = msIntoDay(window.to);
  const wraps = to <= from;
  const dateOf = (instant: number) => Math.floor(clock.wallAt(instant) / DAY_MS) * DAY_MS;
  for (let date = dateOf(fromMs) - DAY_MS, last = dateOf(untilMs); date <= last; date += DAY_MS) {
    if (days.has(weekdayOf(date))) yield* clock.showing(date + from, date + (wraps ? DAY_MS : 0) + to);
  }
}

/**
 * The times some window is open, from `fromMs` on, in order: every window's occurrences with
 * overlapping or touching ones merged, each ending after `fromMs` and starting by `untilMs`. They are
 * built as they are taken, so a grant or a search that needs the first few never builds the years of
 * occurrences a long span holds; for the same reason one still open at `untilMs` is not followed
 * further, and may end later than it is said to.
 */
export function* openStretches(windows: readonly AccessWindow[], fromMs: number, untilMs: number): Generator<Interval> {
  const streams = windows.map((window) => occurrencesByDay(window, fromMs, untilMs));
  const heads = streams.map((stream) => stream.next());
  let open: Interval | null = null;
  for (;;) {
    let earliest = -1;
    heads.forEach((head, index) => {
      const best = heads[earliest];
      if (!head.done && (!best || best.done || head.value.start < best.value.start)) earliest = index;
    });
    const head = heads[earliest];
    if (!head || head.done) break;
    const next = head.value;
    heads[earliest] = streams[earliest]!.next();
    if (open && next.start <= open.end) {
      open.end = Math.max(open.end, next.end);
    } else {
      if (open && open.end > fromMs) yield open;
      if (next.start > untilMs) return;
      open = { ...next };
    }
    if (open.end > fromMs && open.end >= untilMs) break;
  }
  if (open && open.end > fromMs) yield open;
}

/**
 * Cuts access [start, end) to the first window occurrence it overlaps: the result lies inside both,
 * never wider than either. Null when the access touches no window at all.
 */
export function cutToWindow(windows: readonly AccessWindow[], access: Interval): Interval | null {
  if (windows.length === 0) return access;
  const first = openStretches(windows, access.start, access.end).next();
  if (first.done || first.value.start >= access.end) return null;
  return { start: Math.max(first.value.start, access.start), end: Math.min(first.value.end, access.end) };
}

/** The first window start at or after `afterMs` (within the next eight days, when every window recurs weekly); null for no windows. */
export function nextWindowStart(windows: readonly AccessWindow[], afterMs: number): number | null {
  for (const open of openStretches(windows, afterMs, afterMs + 8 * DAY_MS)) if (open.start >= afterMs) return open.start;
  return null;
}
