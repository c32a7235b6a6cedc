import type { BenchContext } from './hubs.js';

export async function runPostgres(_ctx: BenchContext, _url: string): Promise<Record<string, number | null>> {
  return {};
}
