import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { mapLimit } from '../server/test-support/map-limit.js';
import { api, closePool, createUsers, policy, requestBody, startHubChild, type BenchContext } from './hubs.js';
import { startServerChild } from './ipc.js';

export interface ThroughputResult {
  submissions: number;
  submitPerSecond: number;
  /** Hub CPU time (user + system) per submission: steadier than the rate on a shared machine. */
  hubCpuMicrosPerSubmit: number;
  /** The same load on a hub started with `sqliteSync: 'FULL'` (survives power loss too); NaN on PostgreSQL. */
  fullSyncSubmissions: number;
  fullSyncPerSecond: number;
  fullSyncHubCpuMicros: number;
  sqliteFloorPerSecond: number;
  /** The same client and load against a bare fastify endpoint answering with a view of the same size. */
  httpFloorPerSecond: number;
  httpFloorCpuMicros: number;
}

const IN_FLIGHT = 32;

/** Sends `count` submissions, IN_FLIGHT at a time; returns submissions per second and server CPU per submission. */
async function load(url: string, token: string | null, count: number, cpuMicros: () => Promise<number>): Promise<{ perSecond: number; cpuMicros: number }> {
  const cpuBefore = await cpuMicros();
  const start = performance.now();
  await mapLimit(Array.from({ length: count }, () => 0), IN_FLIGHT, async () => {
    const { status } = await api(url, 'POST', '/api/v1/requests', token, requestBody());
    if (status !== 201) throw new Error(`submit failed: ${status}`);
  });
  const perSecond = count / ((performance.now() - start) / 1000);
  return { perSecond, cpuMicros: ((await cpuMicros()) - cpuBefore) / count };
}

/** The HTTP floor: what this client and this fastify manage with no work behind the endpoint. */
async function httpFloor(ctx: BenchContext, count: number, reply: unknown): Promise<{ perSecond: number; cpuMicros: number }> {
  const child = startServerChild(ctx.serverExecArgv);
  try {
    const { url } = await child.call({ type: 'start-bare-http', reply });
    if (!url) throw new Error('the bare HTTP server did not report its URL');
    const cpu = async () => (await child.call({ type: 'cpu' })).cpuMicros ?? Number.NaN;
    await load(url, null, 200, cpu);
    const result = await load(url, null, count, cpu);
    await closePool(url);
    return result;
  } finally {
    await child.close({ type: 'stop' });
  }
}

/**
 * Raw better-sqlite3: single-row inserts, one transaction each, with the pragmas the hub sets on its
 * file (server/store/database.ts): WAL, synchronous=NORMAL and, since the hub checkpoints from a
 * worker thread, wal_autocheckpoint=10000 (the writer checkpoints only past ~40 MB of log).
 */
export function sqliteInsertFloor(rows: number): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-bench-sqlite-'));
  try {
    const db = new BetterSqlite3(path.join(dir, 'floor.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 10000');
    db.exec('create table t (id text primary key, payload text not null)');
    const insert = db.prepare('insert into t (id, payload) values (?, ?)');
    const one = db.transaction((id: string, payload: string) => insert.run(id, payload));
    const payload = JSON.stringify(requestBody(0));
    const start = performance.now();
    for (let i = 0; i < rows; i++) one(`row-${i}`, payload);
    const seconds = (performance.now() - start) / 1000;
    db.close();
    return rows / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh hub; 200 warm-up submissions, then `count` measured ones. Returns the figures and one submission's view. */
async function measureHub(ctx: BenchContext, count: number, label: string, options: { databaseUrl?: string; sqliteSync?: 'NORMAL' | 'FULL' }): Promise<{ perSecond: number; cpuMicros: number; view: unknown }> {
  const hub = await startHubChild(ctx, { policy: policy(), ...options });
  try {
    const [requester] = await createUsers(hub.url, 'requester', 1, ['requester'], []);
    if (!requester) throw new Error('no requester');
    // Someone who could approve: without one every submission is refused with NO_APPROVERS.
    await createUsers(hub.url, 'approver', 1, ['approver'], ['sre']);
    const view = (await api(hub.url, 'POST', '/api/v1/requests', requester, requestBody())).body;
    await load(hub.url, requester, 200, hub.cpuMicros);
    ctx.progress(`${label}: ${count} submissions, ${IN_FLIGHT} in flight`);
    return { ...(await load(hub.url, requester, count, hub.cpuMicros)), view };
  } finally {
    await hub.close();
  }
}

/** Durable submissions per second over HTTP (hub in its own process, 32 requests in flight), beside the HTTP floor. */
export async function runThroughput(ctx: BenchContext, databaseUrl?: string): Promise<ThroughputResult> {
  const submissions = ctx.quick ? 2000 : 20_000;
  const measured = await measureHub(ctx, submissions, 'throughput', { databaseUrl });
  const main = { submissions, submitPerSecond: measured.perSecond, hubCpuMicrosPerSubmit: measured.cpuMicros };
  // The floors and the FULL-sync figure don't depend on PostgreSQL: measured once, beside the SQLite run.
  if (databaseUrl) return { ...main, fullSyncSubmissions: 0, fullSyncPerSecond: Number.NaN, fullSyncHubCpuMicros: Number.NaN, httpFloorPerSecond: Number.NaN, httpFloorCpuMicros: Number.NaN, sqliteFloorPerSecond: Number.NaN };
  const fullSyncSubmissions = ctx.quick ? 1000 : 5000;
  const fullSync = await measureHub(ctx, fullSyncSubmissions, 'throughput (synchronous=FULL)', { sqliteSync: 'FULL' });
  ctx.progress('throughput: HTTP floor (bare fastify, same client and load)');
  const floor = await httpFloor(ctx, submissions, measured.view);
  const base = { ...main, fullSyncSubmissions, fullSyncPerSecond: fullSync.perSecond, fullSyncHubCpuMicros: fullSync.cpuMicros, httpFloorPerSecond: floor.perSecond, httpFloorCpuMicros: floor.cpuMicros };
  ctx.progress('throughput: raw better-sqlite3 insert floor');
  return { ...base, sqliteFloorPerSecond: sqliteInsertFloor(ctx.quick ? 10_000 : 50_000) };
}
