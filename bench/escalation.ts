import type { BenchContext } from './hubs.js';
import type { Summary } from './stats.js';
export async function runEscalation(_ctx: BenchContext): Promise<{ lag: Summary; deadlines: number }> {
  return { lag: { count: 0, p50: NaN, p99: NaN, max: NaN }, deadlines: 0 };
}
