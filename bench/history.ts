import type { BenchContext } from './hubs.js';
import type { Summary } from './stats.js';
export async function runHistory(_ctx: BenchContext): Promise<{ firstPage: Summary; events: number; verifyPerSecond: number }> {
  return { firstPage: { count: 0, p50: NaN, p99: NaN, max: NaN }, events: 0, verifyPerSecond: NaN };
}
