import { GreenlightError } from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import { recordFailedAuthentication } from '../domain/users.js';
import type { Metrics } from '../metrics.js';
import { throttleKey } from './client-address.js';
import { RateWindow } from './rate-window.js';

/**
 * Every failed authentication is audited, but a client making up a new token for every call would
 * slip past the per-token rate limit and write an audit event each time. Past `perMinute` failures
 * from one address (an IPv6 /64) in a minute, further failures are refused with RATE_LIMITED and not
 * written; the last one written says so, and the next one written says how many were left out. A
 * valid token from that address is never held back by this.
 */
export class FailedAuthentications {
  private readonly window: RateWindow;
  private readonly unrecorded = new Map<string, number>();

  constructor(
    private readonly ctx: Context,
    private readonly metrics: Metrics,
    private readonly perMinute: number,
  ) {
    this.window = new RateWindow(perMinute, () => ctx.clock.now().getTime());
  }

  /** Records a failure from `address` (`reason` for the audit log, `message` for the caller) and returns the error to answer it with. */
  async refuse(address: string, where: string, reason: string, message: string): Promise<GreenlightError> {
    const key = throttleKey(address);
    const { count, over, retrySeconds } = this.window.hit(key);
    if (over) {
      this.metrics.authFailures.inc({ recorded: 'false' });
      if (this.unrecorded.size > 10_000) this.unrecorded.clear();
      this.unrecorded.set(key, (this.unrecorded.get(key) ?? 0) + 1);
      return new GreenlightError('RATE_LIMITED', `Too many failed sign-ins from this address: at most ${this.perMinute} a minute. Check the token, then retry in ${retrySeconds} s.`);
    }
    const details: Record<string, string> = { address };
    const leftOut = this.unrecorded.get(key);
    if (leftOut) {
      details.unrecordedBefore = `${leftOut} failed sign-ins from this address were refused unrecorded before this one`;
      this.unrecorded.delete(key);
    }
    if (count === this.perMinute) details.throttled = `further failures from this address are refused unrecorded for ${retrySeconds} s`;
    await recordFailedAuthentication(this.ctx, where, reason, details);
    this.metrics.authFailures.inc({ recorded: 'true' });
    return new GreenlightError('UNAUTHENTICATED', message);
  }
}
