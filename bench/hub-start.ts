/**
 * How long `greenlight hub` takes from spawn to serving: the compiled build (what `npm start`, the
 * container and the systemd unit run) and, for comparison, the TypeScript sources through tsx.
 * Each start gets a fresh data directory, so it includes creating and migrating the database and
 * bootstrapping the admin. "Serving" is the hub's own `listening on` line, which it prints once the
 * HTTP server listens and the scheduler runs; /readyz is then checked to answer 200.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './hubs.js';
import { summarize, type Summary } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function startOnce(fromSource: boolean): Promise<number> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-bench-start-'));
  const env: NodeJS.ProcessEnv = { ...process.env, GREENLIGHT_LOG_LEVEL: 'warn', GREENLIGHT_ADMIN_TOKEN: 'glt_bench-start-admin-token-0000000000' };
  delete env.GREENLIGHT_FROM_SOURCE;
  if (fromSource) env.GREENLIGHT_FROM_SOURCE = '1';
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'greenlight.mjs'), 'hub', '--port', '0', '--data-dir', dataDir], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        const match = /listening on (http:\/\/\S+)/.exec(text);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`the hub exited (${code}) before listening:\n${text}`)));
    });
    const elapsed = performance.now() - started;
    const ready = await fetch(`${url}/readyz`);
    if (ready.status !== 200) throw new Error(`/readyz answered ${ready.status} right after the hub said it listens`);
    return elapsed;
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runHubStart(ctx: BenchContext): Promise<{ compiled: Summary; source: Summary }> {
  ctx.progress('hub start: building dist/server');
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-server.mjs')], { cwd: ROOT, stdio: 'ignore' });
  const runs = ctx.quick ? 3 : 7;
  const compiled: number[] = [];
  const source: number[] = [];
  // Alternate the two, so a machine that slows down mid-run weighs on both alike.
  for (let i = 0; i < runs; i++) {
    ctx.progress(`hub start: run ${i + 1} of ${runs}`);
    compiled.push(await startOnce(false));
    source.push(await startOnce(true));
  }
  return { compiled: summarize(compiled), source: summarize(source) };
}
