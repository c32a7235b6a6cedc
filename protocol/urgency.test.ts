import { describe, expect, it } from 'vitest';
import { requestFixture } from './request-fixture.js';
import { describeDeadline, nextDeadline } from './urgency.js';

describe('the next deadline of a pending request', () => {
  const escalating = requestFixture({ nextEscalationAt: '2026-01-01T00:05:00.000Z', expiresAt: '2026-01-01T01:00:00.000Z' });

  it('is the escalation when it comes before expiry', () => {
    const deadline = nextDeadline(escalating);
    expect(deadline).toEqual({ kind: 'escalation', at: '2026-01-01T00:05:00.000Z' });
    expect(describeDeadline(deadline!, 'in 5m')).toBe('escalates in 5m');
  });

  it('moves to the end of a claim that holds the escalation, and says whose', () => {
    const claimed = { ...escalating, claim: { by: 'bob', until: '2026-01-01T00:15:00.000Z' } };
    const deadline = nextDeadline(claimed);
    expect(deadline).toEqual({ kind: 'escalation', at: '2026-01-01T00:15:00.000Z', heldBy: 'bob' });
    expect(describeDeadline(deadline!, 'in 15m')).toBe('escalates in 15m (held by bob’s claim)');
  });

  it('ignores a claim that ends before the escalation is due', () => {
    const briefly = { ...escalating, claim: { by: 'bob', until: '2026-01-01T00:01:00.000Z' } };
    expect(nextDeadline(briefly)).toEqual({ kind: 'escalation', at: '2026-01-01T00:05:00.000Z' });
  });

  it('is the expiry when a claim holds the escalation past it', () => {
    const longClaim = { ...escalating, claim: { by: 'bob', until: '2026-01-01T02:00:00.000Z' } };
    const deadline = nextDeadline(longClaim);
    expect(deadline).toEqual({ kind: 'expiry', at: '2026-01-01T01:00:00.000Z' });
    expect(describeDeadline(deadline!, 'in 1h')).toBe('expires in 1h');
  });
});
