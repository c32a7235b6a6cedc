import { GreenlightError } from '../../protocol/index.js';

/** A fixed one-minute window per key, for socket calls and failed sign-ins (HTTP calls have @fastify/rate-limit). */
export class RateWindow {
  private readonly counts = new Map<string, { start: number; count: number }>();

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  /** Counts one more for `key`: how many there have been in its current window, and when that window ends. */
  hit(key: string): { count: number; over: boolean; retrySeconds: number } {
    const now = this.now();
    let entry = this.counts.get(key);
    if (!entry || now - entry.start >= 60_000) {
      if (this.counts.size > 10_000) this.prune(now);
      entry = { start: now, count: 0 };
      this.counts.set(key, entry);
    }
    entry.count += 1;
    return { count: entry.count, over: entry.count > this.perMinute, retrySeconds: Math.ceil((entry.start + 60_000 - now) / 1000) };
  }

  take(key: string): void {
    const { over, retrySeconds } = this.hit(key);
    if (over) throw new GreenlightError('RATE_LIMITED', `Too many requests: at most ${this.perMinute} a minute per user. Retry in ${retrySeconds} s.`);
  }

  private prune(now: number): void {
    for (const [key, entry] of this.counts) if (now - entry.start >= 60_000) this.counts.delete(key);
  }
}
