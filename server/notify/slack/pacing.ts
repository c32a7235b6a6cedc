/**
 * Slack allows about one message a second per channel: posts to one channel are spaced that far
 * apart on this hub. Real time, not the hub's clock: this paces the wire, it is no deadline.
 */
export class ChannelPacing {
  private readonly nextAt = new Map<string, number>();

  constructor(private readonly intervalMs = 1000) {}

  async wait(channel: string): Promise<void> {
    const now = Date.now();
    const at = Math.max(now, this.nextAt.get(channel) ?? 0);
    this.nextAt.set(channel, at + this.intervalMs);
    if (this.nextAt.size > 10_000) this.forgetPast(now);
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  private forgetPast(now: number): void {
    for (const [channel, at] of this.nextAt) if (at < now) this.nextAt.delete(channel);
  }
}
