/**
 * How long a goodbye counts. It arrives just before the adapter's own close message, which removes
 * the hub at once, so the next count (every second) sees the drop. Kept short: a goodbye not spent
 * then (a hub joined in the same second) must not pass for a hub that dies soon after.
 */
const GOODBYE_COUNTS_MS = 3_000;

/**
 * Tells hubs that left after handing over everything they committed (they said goodbye as they
 * stopped) from hubs that died: only one that died can have taken a push with it.
 */
export class Departures {
  private goodbyes: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  saidGoodbye(): void {
    this.goodbyes.push(this.now());
  }

  /** Of `left` hubs gone since the last count, how many left without saying goodbye. */
  unannounced(left: number): number {
    const since = this.now() - GOODBYE_COUNTS_MS;
    this.goodbyes = this.goodbyes.filter((at) => at >= since);
    const announced = Math.min(left, this.goodbyes.length);
    this.goodbyes.splice(0, announced);
    return left - announced;
  }
}
