/**
 * How long `greenlight hub` takes from spawn to serving: the compiled build (what `npm start`, the
 * container and the systemd unit run) and, for comparison, the TypeScript sources through tsx.
 * Each start gets a fresh data directory, so it includes creating and migrating the database and
 * bootstrapping the admin. "Serving" is the hub's own `listening on` line, which it prints once the
 * HTTP server listens and the scheduler runs; /readyz is then checked to answer 200.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN } from '../server/test-support/admin-token.js';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import type { BenchContext } from './hubs.js';
import { summarize, type Summary } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function startOnce(fromSource: boolean): Promise<number> {
  const data = new HubDataDir();
  const hub = new HubProcess(data.args, { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN, GREENLIGHT_FROM_SOURCE: fromSource ? '1' : undefined });
  try {
    await hub.start();
    const ready = await fetch(`${hub.url}/readyz`);
    if (ready.status !== 200) throw new Error(`/readyz answered ${ready.status} right after the hub said it listens`);
    return hub.listeningAfterMs;
  } finally {
    await hub.stop();
    data.remove();
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
