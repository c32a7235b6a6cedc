import { describe, expect, it } from 'vitest';
import { accessWindowSchema, type AccessWindow } from '../../../protocol/index.js';
import { cutToWindow, nextWindowStart, occurrencesOf } from './windows.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const hours = (interval: { start: number; end: number }) => (interval.end - interval.start) / 3_600_000;
const berlin = (days: AccessWindow['days'], from: string, to: string): AccessWindow => ({ days, from, to, timezone: 'Europe/Berlin' });

const WEEKDAYS = berlin(['mon', 'tue', 'wed', 'thu', 'fri'], '08:00', '19:00');
const SATURDAY_NIGHT = berlin(['sat'], '22:00', '02:00');

describe('recurring windows in a time zone', () => {
  it('places office hours in UTC by the offset of that day, before and after the spring change', () => {
    const [friday] = occurrencesOf(WEEKDAYS, at('2026-03-27T12:00:00Z'), at('2026-03-27T12:00:00Z')).filter((o) => iso(o.start).startsWith('2026-03-27'));
    const [monday] = occurrencesOf(WEEKDAYS, at('2026-03-30T12:00:00Z'), at('2026-03-30T12:00:00Z')).filter((o) => iso(o.start).startsWith('2026-03-30'));
    expect(iso(friday!.start)).toBe('2026-03-27T07:00:00.000Z');
    expect(iso(friday!.end)).toBe('2026-03-27T18:00:00.000Z');
    expect(iso(monday!.start)).toBe('2026-03-30T06:00:00.000Z');
    expect(iso(monday!.end)).toBe('2026-03-30T17:00:00.000Z');
  });

  it('a night window on the spring-forward Sunday in Berlin lasts one hour less', () => {
    const night = berlin(['sun'], '00:00', '06:00');
    const [occurrence] = occurrencesOf(night, at('2026-03-29T00:00:00Z'), at('2026-03-29T00:00:00Z')).filter((o) => o.end > at('2026-03-29T00:00:00Z'));
    expect(iso(occurrence!.start)).toBe('2026-03-28T23:00:00.000Z');
    expect(iso(occurrence!.end)).toBe('2026-03-29T04:00:00.000Z');
    expect(hours(occurrence!)).toBe(5);
  });

  it('a window starting inside the skipped hour starts at the first time that exists', () => {
    const gap = berlin(['sun'], '02:30', '04:00');
    const [occurrence] = occurrencesOf(gap, at('2026-03-29T00:00:00Z'), at('2026-03-29T00:00:00Z')).filter((o) => iso(o.start).startsWith('2026-03-29'));
    expect(iso(occurrence!.start)).toBe('2026-03-29T01:00:00.000Z'); // 03:00 CEST, when the clock jumps past 02:30
    expect(iso(occurrence!.end)).toBe('2026-03-29T02:00:00.000Z'); // 04:00 CEST
  });

  it('a night window on the fall-back Sunday in Berlin lasts one hour more', () => {
    const night = berlin(['sun'], '00:00', '06:00');
    const [occurrence] = occurrencesOf(night, at('2026-10-25T00:00:00Z'), at('2026-10-25T00:00:00Z')).filter((o) => o.end > at('2026-10-25T00:00:00Z'));
    expect(iso(occurrence!.start)).toBe('2026-10-24T22:00:00.000Z');
    expect(iso(occurrence!.end)).toBe('2026-10-25T05:00:00.000Z');
    expect(hours(occurrence!)).toBe(7);
  });

  it('a window across midnight ends on the next local day', () => {
    const [occurrence] = occurrencesOf(SATURDAY_NIGHT, at('2026-12-26T12:00:00Z'), at('2026-12-26T12:00:00Z')).filter((o) => iso(o.start).startsWith('2026-12-26'));
    expect(iso(occurrence!.start)).toBe('2026-12-26T21:00:00.000Z');
    expect(iso(occurrence!.end)).toBe('2026-12-27T01:00:00.000Z');
  });
});

describe('cutting access to a window', () => {
  it('leaves access inside a window as it is', () => {
    const access = { start: at('2026-12-22T09:00:00Z'), end: at('2026-12-22T11:00:00Z') };
    expect(cutToWindow([WEEKDAYS], access)).toEqual(access);
  });

  it('cuts, never widens: access running past the window ends with it', () => {
    const cut = cutToWindow([WEEKDAYS], { start: at('2026-12-22T16:00:00Z'), end: at('2026-12-22T20:00:00Z') });
    expect(cut && iso(cut.start)).toBe('2026-12-22T16:00:00.000Z');
    expect(cut && iso(cut.end)).toBe('2026-12-22T18:00:00.000Z'); // 19:00 in Berlin
  });

  it('access starting before a window starts with it', () => {
    const cut = cutToWindow([WEEKDAYS], { start: at('2026-12-22T05:00:00Z'), end: at('2026-12-22T08:00:00Z') });
    expect(cut && iso(cut.start)).toBe('2026-12-22T07:00:00.000Z');
    expect(cut && iso(cut.end)).toBe('2026-12-22T08:00:00.000Z');
  });

  it('access after midnight falls in the window that began the evening before', () => {
    // Sunday 00:30 in Berlin, two hours asked: Saturday's window ends at 02:00.
    const cut = cutToWindow([WEEKDAYS, SATURDAY_NIGHT], { start: at('2026-12-26T23:30:00Z'), end: at('2026-12-27T01:30:00Z') });
    expect(cut && iso(cut.start)).toBe('2026-12-26T23:30:00.000Z');
    expect(cut && iso(cut.end)).toBe('2026-12-27T01:00:00.000Z');
  });

  it('touching windows count as one', () => {
    const sunday = berlin(['sun'], '02:00', '05:00');
    const cut = cutToWindow([SATURDAY_NIGHT, sunday], { start: at('2026-12-26T21:00:00Z'), end: at('2026-12-27T06:00:00Z') });
    expect(cut && iso(cut.end)).toBe('2026-12-27T04:00:00.000Z');
  });

  it('access outside every window is cut to nothing, and the next window start is named', () => {
    const sundayNoon = { start: at('2026-12-27T11:00:00Z'), end: at('2026-12-27T12:00:00Z') };
    expect(cutToWindow([WEEKDAYS, SATURDAY_NIGHT], sundayNoon)).toBeNull();
    expect(iso(nextWindowStart([WEEKDAYS, SATURDAY_NIGHT], sundayNoon.start)!)).toBe('2026-12-28T07:00:00.000Z');
    expect(iso(nextWindowStart([WEEKDAYS, SATURDAY_NIGHT], at('2026-12-25T19:00:00Z'))!)).toBe('2026-12-26T21:00:00.000Z');
  });

  it('no windows means no cut', () => {
    const access = { start: 0, end: 1000 };
    expect(cutToWindow([], access)).toEqual(access);
  });
});

describe('window validation', () => {
  it('refuses an unknown time zone, equal from and to, and a bad time of day, naming the field', () => {
    const issues = (value: unknown) => accessWindowSchema.safeParse(value).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    expect(issues({ days: ['mon'], from: '08:00', to: '10:00', timezone: 'Europe/Atlantis' })).toEqual([expect.stringMatching(/^timezone: unknown time zone/)]);
    expect(issues({ days: ['mon'], from: '08:00', to: '08:00', timezone: 'UTC' })).toEqual([expect.stringMatching(/^to: .*differ/)]);
    expect(issues({ days: ['mon'], from: '24:00', to: '08:00', timezone: 'UTC' })).toEqual([expect.stringMatching(/^from: /)]);
    expect(issues({ days: ['mon'], from: '22:00', to: '02:00', timezone: 'Europe/Berlin' })).toEqual([]);
  });
});
