import { GreenlightError } from '../../protocol/index.js';

/** A fixed one-minute window per key, for socket calls (HTTP has @fastify/rate-limit). */
export class RateWindow {
  private readonly counts = new Map<string, { start: number; count: number }>();

  constructor(private readonly perMinute: number, private readonly now: () => number = Date.now) {}

  take(key: string): void {
    const now = this.now();
    let entry = this.counts.get(key);
    if (!entry || now - entry.start >= 60_000) {
      if (this.counts.size > 10_000) this.prune(now);
      entry = { start: now, count: 0 };
      this.counts.set(key, entry);
    }
    entry.count += 1;
    if (entry.count > this.perMinute) {
      const retry = Math.ceil((entry.start + 60_000 - now) / 1000);
      throw new GreenlightError('RATE_LIMITED', `Too many requests: at most ${this.perMinute} a minute per user. Retry in ${retry} s.`);
    }
  }

  private prune(now: number): void {
    for (const [key, entry] of this.counts) if (now - entry.start >= 60_000) this.counts.delete(key);
  }
}
