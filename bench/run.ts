/**
 * `npm run bench [-- --quick] [--postgres URL] [--only floor,notify,...] [--cpu-prof]`
 * Runs the scenarios in order, prints a table with the targets beside the figures, and writes
 * bench/results/latest.json. Figures are reported, never asserted: a person judges them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BENCH_DIR } from './ipc.js';
import type { BenchContext } from './hubs.js';
import { runFloor, type FanoutResult } from './floor.js';
import { runNotify, type NotifyResult } from './notify.js';
import { memoryFigures } from './memory.js';
import { runThroughput } from './throughput.js';
import { runEscalation } from './escalation.js';
import { runHistory } from './history.js';
import { runPostgres } from './postgres.js';
import { runHubStart } from './hub-start.js';
import { runOutbox } from './outbox.js';
import { runPgEscalation } from './pg-escalation.js';
import { runSync } from './sync.js';
import { round } from './stats.js';

const SCENARIOS = ['floor', 'notify', 'throughput', 'sync', 'escalation', 'history', 'outbox', 'postgres', 'pg-escalation', 'startup'] as const;
type Scenario = (typeof SCENARIOS)[number];

const argsSchema = z.object({
  quick: z.boolean().default(false),
  postgres: z.string().url().optional(),
  only: z
    .string()
    .optional()
    .transform((value) => (value ? value.split(',').map((name) => name.trim()) : [...SCENARIOS]))
    .pipe(z.array(z.enum(SCENARIOS))),
  'cpu-prof': z.boolean().default(false),
});

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, postgres: { type: 'string' }, only: { type: 'string' }, 'cpu-prof': { type: 'boolean' } },
  allowPositionals: false,
});
const args = argsSchema.parse(values);
const resultsDir = path.join(BENCH_DIR, 'results');
mkdirSync(resultsDir, { recursive: true });

const started = performance.now();
const ctx: BenchContext = {
  quick: args.quick,
  serverExecArgv: args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.join(resultsDir, 'profiles')}`] : [],
  progress: (message) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`),
};

const wanted = (scenario: Scenario) => args.only.includes(scenario);
const figures: Record<string, number | string | null> = {
  mode: args.quick ? 'quick' : 'full',
  started_at: new Date().toISOString(),
  cpus: os.cpus().length,
  node: process.version,
  // The machine may be shared: the load average (1 min) when the run started, and when it ended, below.
  load_avg_start: Number(os.loadavg()[0]?.toFixed(2)),
};
const set = (key: string, value: number | null) => {
  figures[key] = value === null ? null : round(value);
};
const num = (key: string): number | null => (typeof figures[key] === 'number' ? (figures[key] as number) : null);

let floor: FanoutResult | null = null;
let floorOne: FanoutResult | null = null;
let notify: NotifyResult | null = null;
if (wanted('floor') || wanted('notify') || (wanted('postgres') && args.postgres)) {
  ctx.progress('floor: bare Socket.IO relay');
  floor = await runFloor(ctx);
  set('floor_p50_ms', floor.latency.p50);
  set('floor_p99_ms', floor.latency.p99);
  set('floor_clients', floor.clients);
  // The issue's floor, literally: one client's event relayed to one other client.
  ctx.progress('floor: bare Socket.IO relay, one-to-one');
  floorOne = await runFloor(ctx, { receivers: 1 });
  set('floor_one_p50_ms', floorOne.latency.p50);
  set('floor_one_p99_ms', floorOne.latency.p99);
}
if (wanted('notify')) {
  notify = await runNotify(ctx);
  set('notify_p50_ms', notify.latency.p50);
  set('notify_p99_ms', notify.latency.p99);
  set('notify_ratio_p99', floor ? notify.latency.p99 / floor.latency.p99 : null);
  set('notify_clients', notify.clients);
  set('decide_to_wait_p50_ms', notify.decideToWait.p50);
  set('decide_to_wait_p99_ms', notify.decideToWait.p99);
  set('decide_to_wait_ratio_p99', floor ? notify.decideToWait.p99 / floor.latency.p99 : null);
  set('decide_to_wait_ratio_one_p99', floorOne ? notify.decideToWait.p99 / floorOne.latency.p99 : null);
  if (floor) for (const [key, value] of Object.entries(memoryFigures(floor, notify))) set(key, value);
}
if (wanted('throughput')) {
  const result = await runThroughput(ctx);
  set('submit_throughput_per_s', result.submitPerSecond);
  set('submit_hub_cpu_us', result.hubCpuMicrosPerSubmit);
  set('submit_throughput_full_sync_per_s', result.fullSyncPerSecond);
  set('submit_hub_cpu_us_full_sync', result.fullSyncHubCpuMicros);
  set('submit_count_full_sync', result.fullSyncSubmissions);
  set('sqlite_insert_floor_per_s', result.sqliteFloorPerSecond);
  set('http_floor_per_s', result.httpFloorPerSecond);
  set('http_floor_cpu_us', result.httpFloorCpuMicros);
  set('submit_count', result.submissions);
  set('submit_cpu_ratio', result.hubCpuMicrosPerSubmit / result.httpFloorCpuMicros);
}
if (wanted('sync')) {
  const result = await runSync(ctx);
  set('sync_2000_p50_ms', result.sync.p50);
  set('sync_2000_p99_ms', result.sync.p99);
  set('sync_2000_floor_p50_ms', result.syncFloor.p50);
  set('sync_2000_floor_p99_ms', result.syncFloor.p99);
  set('sync_2000_ratio_p99', result.sync.p99 / result.syncFloor.p99);
  set('sync_2000_kb', result.syncBytes / 1024);
  set('sync_in_view', result.inView);
  set('reconnect_storm_s', result.storm.ms / 1000);
  set('reconnect_storm_loop_delay_p99_ms', result.stormLoopDelay.p99);
  set('reconnect_storm_loop_delay_max_ms', result.stormLoopDelay.max);
  set('reconnect_storm_floor_s', result.stormFloor.ms / 1000);
  set('reconnect_storm_floor_loop_delay_p99_ms', result.stormFloorLoopDelay.p99);
  set('reconnect_storm_ratio', result.storm.ms / result.stormFloor.ms);
  set('reconnect_storm_clients', result.stormClients);
  set('reconnect_storm_synced', result.storm.minInbox === result.stormInView && result.storm.maxInbox === result.stormInView ? result.storm.synced : 0);
  set('reconnect_storm_in_view', result.stormInView);
}
if (wanted('escalation')) {
  const result = await runEscalation(ctx);
  set('escalation_lag_p50_ms', result.lag.p50);
  set('escalation_lag_p99_ms', result.lag.p99);
  set('escalation_lag_max_ms', result.lag.max);
  set('escalation_deadlines', result.deadlines);
  set('escalation_expected', result.expected);
  set('escalation_received', result.received);
  set('escalation_missing', result.missing);
}
if (wanted('history')) {
  const result = await runHistory(ctx);
  set('history_first_page_ms', result.firstPage.p50);
  set('history_first_page_p99_ms', result.firstPage.p99);
  set('history_events', result.events);
  set('audit_verify_events_per_s', result.verifyPerSecond);
  set('audit_verify_peak_rss_mb', result.verifyPeakRssMb);
}
if (wanted('outbox')) {
  const result = await runOutbox(ctx);
  set('outbox_lag_p50_ms', result.lag.p50);
  set('outbox_lag_p99_ms', result.lag.p99);
  set('outbox_floor_p50_ms', result.floor.p50);
  set('outbox_floor_p99_ms', result.floor.p99);
  set('outbox_events', result.events);
}
if (wanted('postgres') && args.postgres) {
  const result = await runPostgres(ctx, args.postgres, floor);
  for (const [key, value] of Object.entries(result)) set(key, value);
  const sqlite = num('submit_throughput_per_s');
  const pgRate = num('pg_submit_throughput_per_s');
  if (sqlite !== null && pgRate !== null) set('pg_to_sqlite_throughput_ratio', pgRate / sqlite);
}
if (wanted('startup')) {
  const result = await runHubStart(ctx);
  set('hub_start_ms', result.compiled.p50);
  set('hub_start_max_ms', result.compiled.max);
  set('hub_start_source_ms', result.source.p50);
}
if (wanted('pg-escalation') && args.postgres) {
  const result = await runPgEscalation(ctx, args.postgres);
  for (const [key, value] of Object.entries(result)) set(key, value);
}
figures.load_avg_end = Number(os.loadavg()[0]?.toFixed(2));
figures.duration_s = round((performance.now() - started) / 1000);

writeFileSync(path.join(resultsDir, 'latest.json'), JSON.stringify(figures, null, 2) + '\n');

const targets: Record<string, string> = {
  notify_ratio_p99: '≤ 2',
  decide_to_wait_ratio_p99: '≤ 3 (× floor p99)',
  decide_to_wait_ratio_one_p99: '≤ 3 (× one-to-one floor p99)',
  escalation_lag_p99_ms: '≤ 20 ms',
  submit_throughput_per_s: '≥ 5,000 /s',
  history_first_page_ms: '≤ 20 ms',
  rss_mb_per_1000_clients: `≤ 1.5 × floor${num('floor_rss_mb_per_1000_clients') !== null ? ` (${round(1.5 * (num('floor_rss_mb_per_1000_clients') ?? 0))})` : ''}`,
  pg_notify_ratio_p99: '≤ 2',
  pg_cross_node_notify_ratio_p99: '≤ 2',
  submit_cpu_ratio: '≤ 2.5',
  sync_2000_p99_ms: '≤ 100 ms',
  reconnect_storm_loop_delay_p99_ms: '≤ 50 ms',
  pg_to_sqlite_throughput_ratio: '≥ 0.5',
  pg_escalation_lag_under_load_p99_ms: '≤ 1000 ms',
};
const rows = Object.entries(figures).map(([key, value]) => [key, value === null ? '—' : String(value), targets[key] ?? '']);
const width = [Math.max(...rows.map((r) => r[0]?.length ?? 0)), Math.max(...rows.map((r) => r[1]?.length ?? 0))];
const line = (cells: string[]) => `${(cells[0] ?? '').padEnd(width[0] ?? 0)}  ${(cells[1] ?? '').padStart(width[1] ?? 0)}  ${cells[2] ?? ''}`.trimEnd();
console.log(line(['figure', 'value', 'target']));
console.log(line(['-'.repeat(width[0] ?? 0), '-'.repeat(width[1] ?? 0), '------']));
for (const row of rows) console.log(line(row));
console.log(`\nwritten to ${path.relative(process.cwd(), path.join(resultsDir, 'latest.json'))}`);
const QUICK_LIMIT_S = 60;
const duration = num('duration_s');
if (args.quick && duration !== null && duration > QUICK_LIMIT_S) {
  process.stderr.write(`\nWARNING: --quick took ${duration} s, over its ${QUICK_LIMIT_S} s budget (shared machine? or a scenario grew)\n`);
}
