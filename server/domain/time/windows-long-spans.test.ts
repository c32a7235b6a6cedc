import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessWindow } from '../../../protocol/index.js';
import { cutToWindow, nextWindowStart } from './windows.js';

// The real zone clock, wrapped only to count the occurrences placed (one `showing` call each).
const built = vi.hoisted(() => ({ count: 0 }));
vi.mock('./zone-clock.js', async (original) => {
  const real = await original<typeof import('./zone-clock.js')>();
  return {
    ...real,
    zoneClock: (name: string) => {
      const clock = real.zoneClock(name);
      return { ...clock, showing: (fromWall: number, toWall: number) => (built.count++, clock.showing(fromWall, toWall)) };
    },
  };
});

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const TEN_YEARS_MS = 3650 * 86_400_000;
const window = (timezone: string, days: AccessWindow['days'], from: string, to: string): AccessWindow => ({ days, from, to, timezone });
const WEEKDAYS = window('Europe/Berlin', ['mon', 'tue', 'wed', 'thu', 'fri'], '08:00', '19:00');
const EVERY_DAY = window('Europe/Berlin', ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], '09:00', '10:00');

const cutText = (windows: AccessWindow[], start: number, end: number) => {
  const cut = cutToWindow(windows, { start, end });
  return cut && `${iso(cut.start)} → ${iso(cut.end)}`;
};

/**
 * The grant a ten-year access from `startIso` gets, as "start → end" in UTC, and how many occurrences
 * were placed for it; the same as a two-day access from there gets, which outlasts every window here.
 */
function tenYearsFrom(windows: AccessWindow[], startIso: string): { grant: string | null; built: number } {
  built.count = 0;
  const grant = cutText(windows, at(startIso), at(startIso) + TEN_YEARS_MS);
  const count = built.count;
  expect(cutText(windows, at(startIso), at(startIso) + 2 * 86_400_000)).toBe(grant);
  return { grant, built: count };
}

beforeEach(() => {
  built.count = 0;
});

describe('a grant asked for years is cut to the window it starts in, placing only the occurrences that needs', () => {
  it('office hours: the working day it starts in, whatever the length asked', () => {
    expect(tenYearsFrom([WEEKDAYS], '2026-12-22T09:00:00Z')).toEqual({ grant: '2026-12-22T09:00Z → 2026-12-22T18:00Z', built: expect.any(Number) });
    expect(tenYearsFrom([WEEKDAYS], '2026-12-22T09:00:00Z').built).toBeLessThanOrEqual(4);
    expect(tenYearsFrom([EVERY_DAY], '2026-12-22T08:30:00Z')).toMatchObject({ grant: '2026-12-22T08:30Z → 2026-12-22T09:00Z' });
    expect(tenYearsFrom([EVERY_DAY], '2026-12-22T08:30:00Z').built).toBeLessThanOrEqual(4);
  });

  it('asked outside every window: the next working day, and the next start named from a short walk', () => {
    const sunday = tenYearsFrom([WEEKDAYS], '2026-12-27T11:00:00Z');
    expect(sunday.grant).toBe('2026-12-28T07:00Z → 2026-12-28T18:00Z');
    expect(sunday.built).toBeLessThanOrEqual(4);
    built.count = 0;
    expect(iso(nextWindowStart([WEEKDAYS], at('2026-12-27T11:00:00Z'))!)).toBe('2026-12-28T07:00Z');
    expect(built.count).toBeLessThanOrEqual(4);
  });

  it('touching windows across midnight count as one, as for a short grant', () => {
    const windows = [window('Europe/Berlin', ['sat'], '22:00', '02:00'), window('Europe/Berlin', ['sun'], '02:00', '05:00')];
    const night = tenYearsFrom(windows, '2026-12-26T21:00:00Z');
    expect(night.grant).toBe('2026-12-26T21:00Z → 2026-12-27T04:00Z');
    expect(night.built).toBeLessThanOrEqual(6);
  });

  it.each([
    ['Berlin, spring forward: 02:30–03:30 opens at 03:00', window('Europe/Berlin', ['sun'], '02:30', '03:30'), '2027-03-28T00:30:00Z', '2027-03-28T01:00Z → 2027-03-28T01:30Z'],
    ['Berlin, fall back: cut where the clock turns back before 02:30', window('Europe/Berlin', ['sun'], '02:30', '03:30'), '2026-10-25T00:40:00Z', '2026-10-25T00:40Z → 2026-10-25T01:00Z'],
    ['New York, spring forward: 02:30–03:30 opens at 03:00', window('America/New_York', ['sun'], '02:30', '03:30'), '2027-03-14T06:00:00Z', '2027-03-14T07:00Z → 2027-03-14T07:30Z'],
    ['New York, fall back: 22:00–01:00 lasts the hour it repeats', window('America/New_York', ['sat'], '22:00', '01:00'), '2026-11-01T01:00:00Z', '2026-11-01T02:00Z → 2026-11-01T05:00Z'],
    ['Lord Howe, half an hour skipped', window('Australia/Lord_Howe', ['sun'], '02:10', '03:00'), '2026-10-03T15:00:00Z', '2026-10-03T15:30Z → 2026-10-03T16:00Z'],
    ['Santiago, midnight skipped', window('America/Santiago', ['sat'], '22:00', '00:30'), '2026-09-06T01:00:00Z', '2026-09-06T02:00Z → 2026-09-06T04:00Z'],
    ['Beirut, midnight skipped', window('Asia/Beirut', ['sat'], '23:00', '00:30'), '2026-03-28T20:00:00Z', '2026-03-28T21:00Z → 2026-03-28T22:00Z'],
  ])('on a clock-change day (%s), as for a short grant', (_, w, startIso, grant) => {
    const long = tenYearsFrom([w], startIso);
    expect(long.grant).toBe(grant);
    expect(long.built).toBeLessThanOrEqual(4);
  });
});
