import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTicker } from './ticker.js';

describe('the shared ticker', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2030-01-01T09:00:00.400Z') }));
  afterEach(() => vi.useRealTimers());

  it('gives every listener the same instant, once a second, just past each whole second', () => {
    const ticker = createTicker();
    const seenByList: number[] = [];
    const seenByDetail: number[] = [];
    const offList = ticker.subscribe(() => seenByList.push(ticker.now()));
    vi.advanceTimersByTime(300);
    // Subscribing later (the detail pane opened after the list) does not start a second, offset clock.
    const offDetail = ticker.subscribe(() => seenByDetail.push(ticker.now()));
    vi.advanceTimersByTime(3_000);
    expect(seenByList.slice(-3)).toEqual(seenByDetail);
    expect(seenByDetail.map((ms) => ms % 1_000)).toEqual([5, 5, 5]);
    offList();
    offDetail();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads the time afresh for a first render and when the first listener arrives', () => {
    const ticker = createTicker();
    vi.advanceTimersByTime(10_000);
    expect(ticker.now()).toBe(Date.parse('2030-01-01T09:00:10.400Z'));
    vi.advanceTimersByTime(300);
    // Within the second, reads agree: a render that reads twice sees one value.
    expect(ticker.now()).toBe(Date.parse('2030-01-01T09:00:10.400Z'));
    const off = ticker.subscribe(() => undefined);
    expect(ticker.now()).toBe(Date.parse('2030-01-01T09:00:10.700Z'));
    off();
  });
});
