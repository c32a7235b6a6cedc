import { describe, expect, it } from 'vitest';
import { Departures } from './departures.js';

describe('Departures', () => {
  it('counts a hub that left after its goodbye as announced, and one more as not', () => {
    const departures = new Departures(() => 0);
    departures.saidGoodbye();
    expect(departures.unannounced(2)).toBe(1);
  });

  it('spends each goodbye once', () => {
    const departures = new Departures(() => 0);
    departures.saidGoodbye();
    expect(departures.unannounced(1)).toBe(0);
    expect(departures.unannounced(1)).toBe(1);
  });

  it('forgets a goodbye the next counts did not spend, so it cannot pass for a hub that dies later', () => {
    let now = 0;
    const departures = new Departures(() => now);
    departures.saidGoodbye();
    now = 3_001;
    expect(departures.unannounced(1)).toBe(1);
  });
});
