/**
 * A real hub in a child process, as `npm start` runs it, for test suites that may not import the
 * hub's code (the desktop shell's tests) or that run it beside a browser (Playwright).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface SpawnHubOptions {
  /** Policy YAML written into the data directory; the hub's default policy when absent. */
  policy?: string;
  /** The admin token; a random one when absent. */
  adminToken?: string;
  /** More `greenlight hub` flags. */
  args?: string[];
  /** Also write the hub's output to `hub.log` in its data directory. */
  logToFile?: boolean;
  timeoutMs?: number;
}

export interface SpawnedHub {
  url: string;
  adminToken: string;
  dataDir: string;
  /** `hub.log` in the data directory, when asked for. */
  logFile: string | null;
  /** Everything the hub printed so far. */
  output(): string;
  createUser(user: { name: string; roles: string[]; groups: string[] }): Promise<{ name: string; token: string }>;
  /** SIGTERM (SIGKILL after 5 s), then removes the data directory unless asked to keep it. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function spawnHub(options: SpawnHubOptions = {}): Promise<SpawnedHub> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'greenlight-hub-'));
  const adminToken = options.adminToken ?? `glt_${randomBytes(24).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  const logFile = options.logToFile ? path.join(dataDir, 'hub.log') : null;
  const policyArgs: string[] = [];
  if (options.policy !== undefined) {
    const policyFile = path.join(dataDir, 'policy.yaml');
    writeFileSync(policyFile, options.policy);
    policyArgs.push('--policy', policyFile);
  }
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'greenlight.mjs'), 'hub', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir, ...policyArgs, ...(options.args ?? [])],
    { cwd: ROOT, env: { ...process.env, GREENLIGHT_ADMIN_TOKEN: adminToken }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const record = (chunk: Buffer) => {
    log += chunk.toString();
    if (logFile) appendFileSync(logFile, chunk);
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The hub exited with ${child.exitCode} before it was healthy:\n${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The hub at ${url} was not healthy within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    url,
    adminToken,
    dataDir,
    logFile,
    output: () => log,
    async createUser(user) {
      const response = await fetch(`${url}/api/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(user),
      });
      if (response.status !== 201) throw new Error(`creating ${user.name}: ${response.status} ${await response.text()}`);
      return (await response.json()) as { name: string; token: string };
    },
    async stop(stopOptions = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      if (!stopOptions.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
