import { describe, expect, it } from 'vitest';
import { auditQuery, describeData, emptyFilters } from './audit-query.js';
import { signInMessage } from './errors.js';
import { safeHttpUrl } from '../../../protocol/urls.js';
import { countdown, formatTime, localiseTimes } from './time.js';
import { filenameFrom } from '../../../protocol/hub-http.js';

describe('safeHttpUrl', () => {
  it('accepts http(s) only', () => {
    expect(safeHttpUrl('https://example.com/a')).toBe('https://example.com/a');
    expect(safeHttpUrl('javascript:alert(1)')).toBeNull();
    expect(safeHttpUrl('file:///etc/passwd')).toBeNull();
    expect(safeHttpUrl(42)).toBeNull();
  });
});

describe('auditQuery', () => {
  it('leaves out empty filters and converts times to ISO', () => {
    const query = new URLSearchParams(auditQuery({ ...emptyFilters, resource: ' api ', from: '2026-01-01T10:00' }, { limit: 50, cursor: 'c2' }));
    expect(query.get('resource')).toBe('api');
    expect(query.get('from')).toMatch(/^2026-01-01T\d\d:00:00\.000Z$/);
    expect(query.get('actor')).toBeNull();
    expect(query.get('limit')).toBe('50');
    expect(query.get('cursor')).toBe('c2');
  });

  it('takes in the whole minute typed as "To": an event at 10:00:30 is shown as 10:00, so "To 10:00" must find it', () => {
    const to = new URLSearchParams(auditQuery({ ...emptyFilters, to: '2026-01-01T10:00' }, { limit: 50 })).get('to') ?? '';
    expect(Date.parse(to) - new Date('2026-01-01T10:00').getTime()).toBe(59_999);
  });
});

describe('signInMessage', () => {
  it('tells a refused token from an unreachable hub', () => {
    expect(signInMessage({ code: 'UNAUTHENTICATED', message: 'x' }, 'http://hub').title).toMatch(/refused this token/);
    expect(signInMessage({ code: 'UNAVAILABLE', message: 'Cannot reach the hub at http://hub: xhr poll error', noAnswer: true }, 'http://hub').title).toBe('Cannot reach the hub at http://hub.');
    expect(signInMessage({ code: 'TIMEOUT', message: 'No answer from the hub at http://hub within 10000 ms', noAnswer: true }, 'http://hub').title).toMatch(/Cannot reach/);
  });
});

describe('time and files', () => {
  it('counts down to zero', () => {
    expect(countdown('2026-01-01T00:01:05Z', Date.parse('2026-01-01T00:00:00Z'))).toBe('1m 5s');
    expect(countdown('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:01Z'))).toBe('now');
  });
  it('reads filenames', () => {
    expect(filenameFrom('attachment; filename="audit.csv"')).toBe('audit.csv');
    expect(filenameFrom(null)).toBeNull();
  });
});

describe('times and lists from the hub, as a person reads them', () => {
  it('shows UTC instants inside the hub’s text in local time', () => {
    const iso = '2026-12-01T19:08:23.834Z';
    expect(localiseTimes(`until ${iso}`)).toBe(`until ${formatTime(iso)}`);
    expect(localiseTimes('step 1: notified leads')).toBe('step 1: notified leads');
  });

  it('writes audit details without JSON brackets for lists of names', () => {
    expect(describeData({ notified: ['leads', 'carol'], expiresAt: '2026-12-01T19:08:23.834Z' })).toBe(`notified: leads, carol · expiresAt: ${formatTime('2026-12-01T19:08:23.834Z')}`);
    // What someone typed is shown as typed, times and all.
    expect(describeData({ comment: 'after 2026-12-01T19:00:00Z please' })).toBe('comment: after 2026-12-01T19:00:00Z please');
  });

  it('leaves out empty lists, objects and blank text instead of printing "skipped: ·"', () => {
    expect(describeData({ skipped: [], notified: ['leads'], extra: {}, comment: '  ', step: 1 })).toBe('notified: leads · step: 1');
    expect(describeData({ skipped: [], comment: null })).toBe('');
  });
});

describe('the decision report helpers', () => {
  it('asks for the days up to the hub time, and writes times and shares for people', async () => {
    const { formatSeconds, formatShare, niceStep, reportQuery } = await import('./report.js');
    const query = new URLSearchParams(reportQuery(30, Date.parse('2030-03-01T10:00:00.000Z')));
    expect(query.get('from')).toBe('2030-01-30T10:00:00.000Z');
    expect(query.get('to')).toBe('2030-03-01T10:00:00.000Z');
    expect(formatSeconds(537)).toBe('8m 57s');
    expect(formatSeconds(null)).toBe('—');
    expect(formatShare(2 / 7)).toBe('29%');
    // Round tick steps: 2 min for an axis up to about 9 minutes, 15 min up to an hour, a day for weeks.
    expect(niceStep(537)).toBe(120);
    expect(niceStep(3_600)).toBe(900);
    expect(niceStep(14 * 86_400)).toBe(3 * 86_400);
  });
});
