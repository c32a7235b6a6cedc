import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ADMIN_TOKEN, TEST_POLICY } from './policy.js';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHealth(url: string, hub: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null = null;
  hub.once('exit', (code) => (exited = code ?? -1));
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`The hub exited with ${exited} before it was healthy:\n${await readFile(logFile, 'utf8')}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`The hub at ${url} was not healthy within ${timeoutMs} ms:\n${await readFile(logFile, 'utf8')}`);
}

/**
 * Starts one real hub for the suite: a free port on 127.0.0.1, a temporary data directory,
 * a fixed admin token and the test policy. Workers read the URL from the environment.
 * Set GREENLIGHT_E2E_URL (and GREENLIGHT_E2E_ADMIN_TOKEN) to run against a hub you started.
 */
export default async function globalSetup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.GREENLIGHT_E2E_URL) return undefined;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'greenlight-e2e-'));
  const policyFile = path.join(dataDir, 'policy.yaml');
  const logFile = path.join(dataDir, 'hub.log');
  await writeFile(policyFile, TEST_POLICY);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(logFile);
  const hub = spawn(
    path.resolve('node_modules/.bin/tsx'),
    ['server/cli/main.ts', 'hub', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, '--policy', policyFile, '--rate-limit', '100000'],
    { env: { ...process.env, GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  hub.stdout?.pipe(log);
  hub.stderr?.pipe(log);
  await waitForHealth(url, hub, logFile, 90_000);
  process.env.GREENLIGHT_E2E_URL = url;
  process.env.GREENLIGHT_E2E_ADMIN_TOKEN = ADMIN_TOKEN;
  process.env.GREENLIGHT_E2E_HUB_LOG = logFile;

  return async () => {
    if (hub.exitCode === null) {
      const exited = new Promise((resolve) => hub.once('exit', resolve));
      hub.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      if (hub.exitCode === null) hub.kill('SIGKILL');
    }
    log.end();
    if (!process.env.GREENLIGHT_E2E_KEEP_DATA) await rm(dataDir, { recursive: true, force: true });
  };
}
