import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { api, createUsers, mapLimit, policy, requestBody, startHubChild, type BenchContext } from './hubs.js';

export interface ThroughputResult {
  submissions: number;
  submitPerSecond: number;
  /** Hub CPU time (user + system) per submission: steadier than the rate on a shared machine. */
  hubCpuMicrosPerSubmit: number;
  sqliteFloorPerSecond: number;
}

/** Raw better-sqlite3: single-row inserts, one transaction each, WAL + synchronous=NORMAL, as the hub opens its file. */
export function sqliteInsertFloor(rows: number): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-bench-sqlite-'));
  try {
    const db = new BetterSqlite3(path.join(dir, 'floor.db'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
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

/** Durable submissions per second over HTTP (hub in its own process, 32 requests in flight). */
export async function runThroughput(ctx: BenchContext, databaseUrl?: string): Promise<ThroughputResult> {
  const submissions = ctx.quick ? 2000 : 20_000;
  const hub = await startHubChild(ctx, { policy: policy(), databaseUrl });
  try {
    const [requester] = await createUsers(hub.url, 'requester', 1, ['requester'], []);
    if (!requester) throw new Error('no requester');
    await mapLimit(Array.from({ length: 200 }, () => 0), 32, () => api(hub.url, 'POST', '/api/v1/requests', requester, requestBody()));
    ctx.progress(`throughput: ${submissions} submissions, 32 in flight`);
    const cpuBefore = await hub.cpuMicros();
    const start = performance.now();
    await mapLimit(Array.from({ length: submissions }, () => 0), 32, async () => {
      const { status } = await api(hub.url, 'POST', '/api/v1/requests', requester, requestBody());
      if (status !== 201) throw new Error(`submit failed: ${status}`);
    });
    const submitPerSecond = submissions / ((performance.now() - start) / 1000);
    const hubCpuMicrosPerSubmit = ((await hub.cpuMicros()) - cpuBefore) / submissions;
    if (databaseUrl) return { submissions, submitPerSecond, hubCpuMicrosPerSubmit, sqliteFloorPerSecond: Number.NaN };
    ctx.progress('throughput: raw better-sqlite3 insert floor');
    const sqliteFloorPerSecond = sqliteInsertFloor(ctx.quick ? 10_000 : 50_000);
    return { submissions, submitPerSecond, hubCpuMicrosPerSubmit, sqliteFloorPerSecond };
  } finally {
    await hub.close();
  }
}
