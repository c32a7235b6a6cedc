import { describe, expect, it } from 'vitest';
import { formatPauseEnd, isPaused, pauseUntil } from './pause.js';

describe('pause', () => {
  const now = new Date(2026, 10, 24, 18, 30);
  it('1 hour from now', () => {
    expect(pauseUntil('1h', now)).toEqual(new Date(2026, 10, 24, 19, 30));
    expect(formatPauseEnd(pauseUntil('1h', now), now)).toBe('19:30');
  });
  it('until 08:00 tomorrow', () => {
    expect(pauseUntil('tomorrow', now)).toEqual(new Date(2026, 10, 25, 8, 0));
    expect(formatPauseEnd(pauseUntil('tomorrow', now), now)).toBe('tomorrow 08:00');
  });
  it('is paused only before the end', () => {
    expect(isPaused(null, now)).toBe(false);
    expect(isPaused(new Date(2026, 10, 24, 19).toISOString(), now)).toBe(true);
    expect(isPaused(new Date(2026, 10, 24, 18).toISOString(), now)).toBe(false);
  });
});
