import { describe, expect, it } from 'vitest';
import { newDelegationSchema } from './delegation.js';
import { instantSchema } from './instant.js';
import { newRequestSchema } from './request.js';

describe('instants a client sends (a start, a delegation window)', () => {
  it('are normalised to UTC', () => {
    expect(instantSchema.parse('2026-12-24T23:00:00+01:00')).toBe('2026-12-24T22:00:00.000Z');
    expect(instantSchema.parse('1970-01-01T00:00:00Z')).toBe('1970-01-01T00:00:00.000Z');
    expect(instantSchema.parse('9999-12-31T23:59:59Z')).toBe('9999-12-31T23:59:59.000Z');
  });

  it('are refused outside 1970–9999 in UTC, where the ISO text would not sort as time does', () => {
    for (const text of ['0000-01-01T00:00:00Z', '0000-01-01T00:00:00+00:01', '1969-12-31T23:59:59Z', '1970-01-01T00:30:00+01:00', '9999-12-31T23:59:59-23:59']) {
      const parsed = instantSchema.safeParse(text);
      expect(parsed.success, text).toBe(false);
      expect(parsed.error?.issues[0]?.message, text).toBe('expected a date and time between 1970 and 9999 (in UTC)');
    }
  });

  it('are refused, with one message, when not RFC 3339 with an offset', () => {
    for (const text of ['2026-12-24', '2026-12-24T23:00:00', '2026-02-30T10:00:00Z', 'tomorrow']) {
      expect(instantSchema.safeParse(text).error?.issues.map((issue) => issue.message), text).toEqual(['expected an RFC 3339 date and time with its offset, such as 2026-12-24T23:00:00+01:00']);
    }
  });

  it('are checked the same way in a request start and a delegation window', () => {
    const request = { action: 'deploy', resource: 'api', environment: 'production', reason: 'hotfix' };
    expect(newRequestSchema.safeParse({ ...request, notBefore: '0000-01-01T00:00:00+00:01' }).success).toBe(false);
    const delegation = { to: 'carol', endsAt: '2026-12-31T18:00:00Z', reason: 'holiday' };
    expect(newDelegationSchema.safeParse({ ...delegation, startsAt: '0000-01-01T00:00:00+00:01' }).success).toBe(false);
    expect(newDelegationSchema.parse({ ...delegation, startsAt: '2026-12-24T09:00:00+01:00' }).startsAt).toBe('2026-12-24T08:00:00.000Z');
  });
});
