import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

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

export interface SpawnedHub {
  url: string;
  adminToken: string;
  output: () => string;
  createUser(user: { name: string; roles: string[]; groups: string[] }): Promise<{ name: string; token: string }>;
  stop(): Promise<void>;
}

/**
 * A real hub in a child process (electron/ may not import server/), on its own port and data
 * directory, as `npm start` runs it.
 */
export async function spawnHub(timeoutMs = 45_000): Promise<SpawnedHub> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-electron-hub-'));
  const adminToken = `glt_${randomBytes(24).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'server/cli/main.ts', 'hub', '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: root,
    env: { ...process.env, GREENLIGHT_ADMIN_TOKEN: adminToken },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the hub exited with ${child.exitCode}: ${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the hub did not answer /healthz within ${timeoutMs} ms: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  return {
    url,
    adminToken,
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
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
