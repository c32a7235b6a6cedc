import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, nextAttemptDelay, parseRetryAfter, RETRY_SCHEDULE_MS } from './retry.js';

describe('the retry schedule', () => {
  it('follows Standard Webhooks: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, then dead', () => {
    const noJitter = () => 0;
    expect(RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]);
    expect(nextAttemptDelay(1, null, noJitter)).toBe(5000);
    expect(nextAttemptDelay(9, null, noJitter)).toBe(86_400_000);
    expect(nextAttemptDelay(MAX_ATTEMPTS, null, noJitter)).toBeNull();
  });

  it('adds at most 10 % jitter', () => {
    expect(nextAttemptDelay(2, null, () => 0.999)).toBeLessThanOrEqual(330_000);
    expect(nextAttemptDelay(2, null, () => 0.5)).toBe(315_000);
  });

  it('never retries before a Retry-After, and caps it at a day', () => {
    expect(nextAttemptDelay(1, 120_000, () => 0)).toBe(120_000);
    expect(nextAttemptDelay(2, 1000, () => 0)).toBe(300_000);
    expect(nextAttemptDelay(1, 10 * 86_400_000, () => 0)).toBe(86_400_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
