import { describe, expect, it } from 'vitest';
import { isPaused, pauseEnd, pauseEndText } from './pause.js';

describe('pause', () => {
  const now = new Date(2026, 10, 24, 18, 30);
  it('ends in one hour, or at 08:00 tomorrow', () => {
    expect(pauseEnd('1h', now)).toEqual(new Date(2026, 10, 24, 19, 30));
    expect(pauseEnd('tomorrow', now)).toEqual(new Date(2026, 10, 25, 8, 0));
    // Just after midnight, "tomorrow" is still the next calendar day.
    expect(pauseEnd('tomorrow', new Date(2026, 10, 25, 0, 10))).toEqual(new Date(2026, 10, 26, 8, 0));
  });
  it('reads as HH:MM today and "tomorrow HH:MM" otherwise', () => {
    expect(pauseEndText(new Date(2026, 10, 24, 19, 5).toISOString(), now)).toBe('19:05');
    expect(pauseEndText(new Date(2026, 10, 25, 8, 0).toISOString(), now)).toBe('tomorrow 08:00');
  });
  it('is paused only before the end', () => {
    expect(isPaused(null, now)).toBe(false);
    expect(isPaused(new Date(2026, 10, 24, 19).toISOString(), now)).toBe(true);
    expect(isPaused(new Date(2026, 10, 24, 18).toISOString(), now)).toBe(false);
  });
});
