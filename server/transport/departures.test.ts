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

  it('forgets a goodbye older than the adapter could take to notice the hub gone', () => {
    let now = 0;
    const departures = new Departures(() => now);
    departures.saidGoodbye();
    now = 16_000;
    expect(departures.unannounced(1)).toBe(1);
  });
});
