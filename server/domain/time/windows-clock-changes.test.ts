import { describe, expect, it } from 'vitest';
import type { AccessWindow } from '../../../protocol/index.js';
import { cutToWindow, nextWindowStart, occurrencesOf } from './windows.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString().replace(':00.000Z', 'Z');
const window = (timezone: string, days: AccessWindow['days'], from: string, to: string): AccessWindow => ({ days, from, to, timezone });

/** The occurrences overlapping [fromIso, untilIso), as "start → end" in UTC (minutes). */
function openBetween(w: AccessWindow, fromIso: string, untilIso: string): string[] {
  return occurrencesOf(w, at(fromIso), at(untilIso))
    .filter((o) => o.end > at(fromIso) && o.start < at(untilIso))
    .map((o) => `${iso(o.start)} → ${iso(o.end)}`);
}

describe('a window on a spring-forward day is open only while the clock shows its hours', () => {
  // Europe/Berlin, Sunday 28 March 2027: 02:00 CET becomes 03:00 CEST (01:00Z).
  const berlinSunday = ['2027-03-27T12:00:00Z', '2027-03-28T12:00:00Z'] as const;

  it('a window starting in the skipped hour opens when the clock jumps past its start', () => {
    expect(openBetween(window('Europe/Berlin', ['sun'], '02:30', '03:30'), ...berlinSunday)).toEqual(['2027-03-28T01:00Z → 2027-03-28T01:30Z']); // 03:00–03:30 CEST
  });

  it('a window wholly inside the skipped hour does not occur, and the next one is a week later', () => {
    const skipped = window('Europe/Berlin', ['sun'], '02:15', '02:45');
    expect(openBetween(skipped, ...berlinSunday)).toEqual([]);
    expect(iso(nextWindowStart([skipped], at('2027-03-28T00:00:00Z'))!)).toBe('2027-04-04T00:15Z'); // 02:15 CEST
  });

  it('a window across midnight ending in the skipped hour closes where the clock jumps', () => {
    expect(openBetween(window('Europe/Berlin', ['sat'], '22:00', '02:30'), ...berlinSunday)).toEqual(['2027-03-27T21:00Z → 2027-03-28T01:00Z']);
  });

  it('America/New_York: 02:00 EST becomes 03:00 EDT', () => {
    expect(openBetween(window('America/New_York', ['sun'], '02:30', '03:30'), '2027-03-14T00:00:00Z', '2027-03-15T00:00:00Z')).toEqual(['2027-03-14T07:00Z → 2027-03-14T07:30Z']);
    expect(openBetween(window('America/New_York', ['sun'], '02:00', '02:59'), '2027-03-14T00:00:00Z', '2027-03-15T00:00:00Z')).toEqual([]);
  });

  it('Australia/Lord_Howe: the clock skips half an hour, 02:00 to 02:30', () => {
    const day = ['2026-10-03T00:00:00Z', '2026-10-04T00:00:00Z'] as const;
    expect(openBetween(window('Australia/Lord_Howe', ['sun'], '02:00', '02:20'), ...day)).toEqual([]);
    expect(openBetween(window('Australia/Lord_Howe', ['sun'], '02:10', '03:00'), ...day)).toEqual(['2026-10-03T15:30Z → 2026-10-03T16:00Z']); // 02:30–03:00 +11
  });

  it('America/Santiago and Asia/Beirut: the clock skips from midnight to 01:00', () => {
    const santiago = ['2026-09-05T12:00:00Z', '2026-09-06T12:00:00Z'] as const;
    expect(openBetween(window('America/Santiago', ['sun'], '00:00', '06:00'), ...santiago)).toEqual(['2026-09-06T04:00Z → 2026-09-06T09:00Z']); // 01:00–06:00 -03
    expect(openBetween(window('America/Santiago', ['sun'], '00:15', '00:45'), ...santiago)).toEqual([]);
    expect(openBetween(window('America/Santiago', ['sat'], '22:00', '00:30'), ...santiago)).toEqual(['2026-09-06T02:00Z → 2026-09-06T04:00Z']);
    expect(openBetween(window('Asia/Beirut', ['sat'], '23:00', '00:30'), '2026-03-28T12:00:00Z', '2026-03-29T12:00:00Z')).toEqual(['2026-03-28T21:00Z → 2026-03-28T22:00Z']);
  });
});

describe('a window on a fall-back day is open only while the clock shows its hours', () => {
  // Europe/Berlin, Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00Z); 02:00–02:59 is shown twice.
  const berlinSunday = ['2026-10-24T12:00:00Z', '2026-10-25T12:00:00Z'] as const;

  it('a window across midnight ending at 02:00 closes the first time the clock shows 02:00', () => {
    // At the second 02:00 the clock would have shown 02:00–02:59 CEST, outside 22:00–02:00.
    expect(openBetween(window('Europe/Berlin', ['sat'], '22:00', '02:00'), ...berlinSunday)).toEqual(['2026-10-24T20:00Z → 2026-10-25T00:00Z']);
  });

  it('a window spanning the repeated hour lasts it twice', () => {
    expect(openBetween(window('Europe/Berlin', ['sun'], '01:00', '04:00'), ...berlinSunday)).toEqual(['2026-10-24T23:00Z → 2026-10-25T03:00Z']);
  });

  it('a window starting inside the repeated hour is open on both passes and closed while the clock shows earlier times', () => {
    expect(openBetween(window('Europe/Berlin', ['sun'], '02:30', '03:30'), ...berlinSunday)).toEqual([
      '2026-10-25T00:30Z → 2026-10-25T01:00Z', // 02:30–03:00 CEST
      '2026-10-25T01:30Z → 2026-10-25T02:30Z', // 02:30–03:30 CET
    ]);
  });

  it('a window ending inside the repeated hour is open again while the clock shows its hours a second time', () => {
    expect(openBetween(window('Europe/Berlin', ['sun'], '01:00', '02:30'), ...berlinSunday)).toEqual([
      '2026-10-24T23:00Z → 2026-10-25T00:30Z', // 01:00–02:30 CEST
      '2026-10-25T01:00Z → 2026-10-25T01:30Z', // 02:00–02:30 CET
    ]);
  });

  it('access is cut to the stretch it starts in, never across the hour the clock shows earlier times', () => {
    const cut = cutToWindow([window('Europe/Berlin', ['sun'], '02:30', '03:30')], { start: at('2026-10-25T00:40:00Z'), end: at('2026-10-25T01:40:00Z') });
    expect(cut && `${iso(cut.start)} → ${iso(cut.end)}`).toBe('2026-10-25T00:40Z → 2026-10-25T01:00Z');
  });

  // A grant is one stretch of time, and the window is closed while the clock shows the times before
  // it again, so a grant never runs across that: it gets the stretch its access starts in, or the
  // first it reaches; access asked for later (or an extension) gets the second pass.
  it('a grant runs through the pass of the window it starts in, or the next, never across the time between', () => {
    const cut = (w: AccessWindow, startIso: string, hours: number) => {
      const interval = cutToWindow([w], { start: at(startIso), end: at(startIso) + hours * 3_600_000 });
      return interval && `${iso(interval.start)} → ${iso(interval.end)}`;
    };
    // New York, Sunday 1 November 2026: at 02:00 EDT (06:00Z) the clock turns back to 01:00 EST.
    const newYork = window('America/New_York', ['sun'], '01:30', '02:30');
    expect(cut(newYork, '2026-11-01T05:35:00Z', 2)).toBe('2026-11-01T05:35Z → 2026-11-01T06:00Z'); // 01:35–02:00 EDT
    expect(cut(newYork, '2026-11-01T06:10:00Z', 2)).toBe('2026-11-01T06:30Z → 2026-11-01T07:30Z'); // 01:30–02:30 EST
    const endsInside = window('Europe/Berlin', ['sun'], '01:00', '02:30');
    expect(cut(endsInside, '2026-10-24T23:10:00Z', 3)).toBe('2026-10-24T23:10Z → 2026-10-25T00:30Z'); // 01:10–02:30 CEST
    expect(cut(endsInside, '2026-10-25T00:40:00Z', 1)).toBe('2026-10-25T01:00Z → 2026-10-25T01:30Z'); // 02:00–02:30 CET
  });

  it('America/New_York: 02:00 EDT becomes 01:00 EST', () => {
    const day = ['2026-10-31T12:00:00Z', '2026-11-01T16:00:00Z'] as const;
    expect(openBetween(window('America/New_York', ['sun'], '00:00', '06:00'), ...day)).toEqual(['2026-11-01T04:00Z → 2026-11-01T11:00Z']);
    expect(openBetween(window('America/New_York', ['sat'], '22:00', '01:00'), ...day)).toEqual(['2026-11-01T02:00Z → 2026-11-01T05:00Z']);
  });

  it('Australia/Lord_Howe: 02:00 +11 becomes 01:30 +10:30', () => {
    const day = ['2026-04-04T00:00:00Z', '2026-04-05T00:00:00Z'] as const;
    expect(openBetween(window('Australia/Lord_Howe', ['sun'], '00:00', '06:00'), ...day)).toEqual(['2026-04-04T13:00Z → 2026-04-04T19:30Z']);
    expect(openBetween(window('Australia/Lord_Howe', ['sun'], '01:45', '03:00'), ...day)).toEqual(['2026-04-04T14:45Z → 2026-04-04T15:00Z', '2026-04-04T15:15Z → 2026-04-04T16:30Z']);
  });

  it('America/Santiago: midnight becomes 23:00 the day before, so Saturday evening repeats', () => {
    const day = ['2026-04-04T12:00:00Z', '2026-04-05T12:00:00Z'] as const;
    expect(openBetween(window('America/Santiago', ['sat'], '22:00', '00:00'), ...day)).toEqual(['2026-04-05T01:00Z → 2026-04-05T04:00Z']);
    expect(openBetween(window('America/Santiago', ['sun'], '00:00', '02:00'), ...day)).toEqual(['2026-04-05T04:00Z → 2026-04-05T06:00Z']);
  });
});
