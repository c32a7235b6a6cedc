import type { FanoutResult } from './floor.js';

/** Server RSS growth per 1,000 connections, from the RSS before and after the clients connected. */
export function rssPerThousand(result: FanoutResult): number {
  return ((result.rssAfter - result.rssBefore) / 1024 / 1024) * (1000 / result.clients);
}

export interface MemoryFigures {
  rss_mb_per_1000_clients: number;
  floor_rss_mb_per_1000_clients: number;
  clients_for_rss: number;
}

/**
 * Both figures come from the notify and floor runs: each server runs in its own process and reports
 * its RSS (after a forced GC) before and after the approver clients (another process) connect.
 */
export function memoryFigures(floor: FanoutResult, notify: FanoutResult): MemoryFigures {
  return { rss_mb_per_1000_clients: rssPerThousand(notify), floor_rss_mb_per_1000_clients: rssPerThousand(floor), clients_for_rss: notify.clients };
}
