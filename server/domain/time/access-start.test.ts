import { describe, expect, it } from 'vitest';
import { accessInterval, grantTimes, startProblem } from './access-start.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3600;

describe('when access starts and how long it lasts', () => {
  it('counts from the approval when no start was asked for, never from submission', () => {
    const access = accessInterval({ approvedAt: at('2026-12-24T15:30:00Z'), notBefore: null, requestedTtlSeconds: 3 * HOUR, grantTtlSeconds: 4 * HOUR });
    expect(iso(access.start)).toBe('2026-12-24T15:30:00.000Z');
    expect(iso(access.end)).toBe('2026-12-24T18:30:00.000Z');
  });

  it('an approval ahead of the asked-for start keeps the full TTL from that start', () => {
    const access = accessInterval({ approvedAt: at('2026-12-24T15:00:00Z'), notBefore: at('2026-12-24T22:00:00Z'), requestedTtlSeconds: 2 * HOUR, grantTtlSeconds: 4 * HOUR });
    expect(iso(access.start)).toBe('2026-12-24T22:00:00.000Z');
    expect(iso(access.end)).toBe('2026-12-25T00:00:00.000Z');
  });

  it('an approval after the asked-for start starts at the approval', () => {
    const access = accessInterval({ approvedAt: at('2026-12-24T22:30:00Z'), notBefore: at('2026-12-24T22:00:00Z'), requestedTtlSeconds: 2 * HOUR, grantTtlSeconds: 4 * HOUR });
    expect(iso(access.start)).toBe('2026-12-24T22:30:00.000Z');
    expect(iso(access.end)).toBe('2026-12-25T00:30:00.000Z');
  });

  it("caps the length at the rule's grantTtl, and uses it when no length was asked for", () => {
    const capped = accessInterval({ approvedAt: 0, notBefore: null, requestedTtlSeconds: 8 * HOUR, grantTtlSeconds: 1 * HOUR });
    const defaulted = accessInterval({ approvedAt: 0, notBefore: null, requestedTtlSeconds: null, grantTtlSeconds: 1 * HOUR });
    expect(capped.end).toBe(HOUR * 1000);
    expect(defaulted.end).toBe(HOUR * 1000);
  });

  it('cuts to the windows and refuses access that touches none, naming the next start', () => {
    const windows = [{ days: ['sat' as const], from: '22:00', to: '02:00', timezone: 'Europe/Berlin' }];
    const inside = grantTimes({ approvedAt: at('2026-12-26T12:00:00Z'), notBefore: at('2026-12-26T23:00:00Z'), requestedTtlSeconds: 4 * HOUR, grantTtlSeconds: 4 * HOUR }, windows);
    expect(inside.ok && iso(inside.interval.end)).toBe('2026-12-27T01:00:00.000Z');
    const outside = grantTimes({ approvedAt: at('2026-12-26T12:00:00Z'), notBefore: null, requestedTtlSeconds: HOUR, grantTtlSeconds: 4 * HOUR }, windows);
    expect(outside).toEqual({ ok: false, nextStart: at('2026-12-26T21:00:00Z') });
  });
});

describe('a requested start', () => {
  const now = at('2026-12-01T12:00:00Z');
  it('must lie ahead', () => {
    expect(startProblem(at('2026-12-01T11:59:00Z'), now, 14 * 86_400)).toMatch(/must be in the future/);
  });
  it('must lie within maxScheduleAhead', () => {
    expect(startProblem(at('2026-12-16T12:00:01Z'), now, 14 * 86_400)).toMatch(/at most 14d ahead/);
    expect(startProblem(at('2026-12-15T12:00:00Z'), now, 14 * 86_400)).toBeNull();
  });
});
