import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FanoutResult } from './floor.js';
import type { BenchContext } from './hubs.js';
import { runNotify } from './notify.js';
import { runThroughput } from './throughput.js';

/** A scratch database on the server `adminUrl` points at; `drop()` removes it. */
export async function scratchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `greenlight_bench_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}

/**
 * The same figures on PostgreSQL, each on its own scratch database: one hub (notify, decide→wait,
 * submit throughput), then two hubs on one database (submit and long-poll on A, approvers on B).
 */
export async function runPostgres(ctx: BenchContext, adminUrl: string, floor: FanoutResult | null): Promise<Record<string, number | null>> {
  const ratio = (value: number) => (floor ? value / floor.latency.p99 : null);
  const out: Record<string, number | null> = {};
  const withDatabase = async <T>(work: (url: string) => Promise<T>): Promise<T> => {
    const database = await scratchDatabase(adminUrl);
    try {
      return await work(database.url);
    } finally {
      await database.drop();
    }
  };
  const single = await withDatabase((url) => runNotify(ctx, { databaseUrl: url }));
  out.pg_notify_p50_ms = single.latency.p50;
  out.pg_notify_p99_ms = single.latency.p99;
  out.pg_notify_ratio_p99 = ratio(single.latency.p99);
  out.pg_decide_to_wait_p99_ms = single.decideToWait.p99;
  out.pg_decide_to_wait_ratio_p99 = ratio(single.decideToWait.p99);
  const throughput = await withDatabase((url) => runThroughput(ctx, url));
  out.pg_submit_throughput_per_s = throughput.submitPerSecond;
  out.pg_submit_hub_cpu_us = throughput.hubCpuMicrosPerSubmit;
  const cross = await withDatabase((url) => runNotify(ctx, { databaseUrl: url, crossNode: true }));
  out.pg_cross_node_notify_p50_ms = cross.latency.p50;
  out.pg_cross_node_notify_p99_ms = cross.latency.p99;
  out.pg_cross_node_notify_ratio_p99 = ratio(cross.latency.p99);
  out.pg_cross_node_decide_to_wait_p50_ms = cross.decideToWait.p50;
  out.pg_cross_node_decide_to_wait_p99_ms = cross.decideToWait.p99;
  return out;
}
