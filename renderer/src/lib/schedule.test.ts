import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestFixture } from '../../../protocol/request-fixture.js';
import { buildNewRequest, emptyForm } from './request-form.js';
import { fromLocalInput, offsetLabel, scheduleLine, toLocalInput } from './schedule.js';

// The viewer's zone decides what "local" means; Node re-reads TZ when it is assigned.
const zone = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'Europe/Berlin';
});
afterAll(() => {
  if (zone === undefined) delete process.env.TZ;
  else process.env.TZ = zone;
});

describe('scheduled access in the viewer’s local time', () => {
  it('reads a local date and time as the viewer’s, and shows an instant back the same way, with its offset', () => {
    expect(fromLocalInput('2026-12-24T23:00')?.toISOString()).toBe('2026-12-24T22:00:00.000Z');
    expect(toLocalInput('2026-12-24T22:00:00.000Z')).toBe('2026-12-24T23:00');
    expect(offsetLabel(new Date('2026-12-24T22:00:00Z'))).toBe('UTC+01:00');
    expect(offsetLabel(new Date('2026-07-01T12:00:00Z'))).toBe('UTC+02:00');
    expect(fromLocalInput('tonight')).toBeNull();
  });

  it('says when access starts and when it runs, across midnight', () => {
    const request = requestFixture({ notBefore: '2026-12-24T22:00:00.000Z', requestedTtlSeconds: 7200, rule: { ...requestFixture().rule, grantTtlSeconds: 4 * 3600 } });
    expect(scheduleLine(request, Date.parse('2026-12-24T15:00:00Z'))).toBe('starts in 7h · runs 23:00–01:00');
    // Still undecided after its start: access would begin at the approval, so the times move with now.
    expect(scheduleLine(request, Date.parse('2026-12-24T22:30:00Z'))).toBe('runs 23:30–01:30');
    const granted = { ...request, status: 'approved' as const, grant: { jti: 'gnt_1', status: 'active' as const, issuedAt: '2026-12-24T15:00:00.000Z', notBefore: '2026-12-24T22:00:00.000Z', expiresAt: '2026-12-25T00:00:00.000Z' } };
    expect(scheduleLine(granted, Date.parse('2026-12-24T22:30:00Z'))).toBe('runs 23:00–01:00');
    expect(scheduleLine(requestFixture(), Date.parse('2026-12-24T15:00:00Z'))).toBeNull();
  });

  it('the form sends the start as an instant, and refuses one that has passed', () => {
    const valid = { ...emptyForm, action: 'deploy', environment: 'production', resource: 'api', reason: 'ship it' };
    const now = new Date('2026-12-24T12:00:00Z');
    expect(buildNewRequest({ ...valid, start: '2026-12-24T23:00', ttl: '2h' }, now).input).toMatchObject({ notBefore: '2026-12-24T22:00:00.000Z', requestedTtlSeconds: 7200 });
    expect(buildNewRequest({ ...valid, start: '2026-12-24T12:00' }, now).errors.start).toBe('must be in the future');
    expect(buildNewRequest(valid, now).input).not.toHaveProperty('notBefore');
  });
});
