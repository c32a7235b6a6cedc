/**
 * A real hub in a child process (`greenlight hub`), as `npm start` runs it. The one way the test
 * suites start a hub outside their own process: the hub's tests and the reliability suite (so they
 * can SIGKILL it like a crash would), the desktop shell's tests (which may not import the hub's
 * code) and the Playwright suite (which runs it beside a browser). Imports nothing of the hub.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedTestKeyFiles } from './test-keys.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

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

export interface HubProcessOptions {
  /** The port to listen on; 0 (the default) lets the OS pick a free one at each start. */
  port?: number;
  /** Also append everything the hub prints to this file, so a failed run leaves it behind. */
  logFile?: string;
  /** How long `start()` waits for the hub to answer /healthz. */
  timeoutMs?: number;
}

export class HubProcess {
  private child: ChildProcess | null = null;
  private log = '';
  url = '';
  /** How long the last start took from spawn to the hub's `listening on` line (what the bench reports). */
  listeningAfterMs = Number.NaN;
  /**
   * The hub's `$XDG_DATA_HOME`, its own across restarts: a hub given no data directory keeps its
   * checkpoint log (and a default database) there, and in the user's home one test run's log would
   * be found by the next run's new database as another chain's checkpoints.
   */
  private readonly dataHome = mkdtempSync(path.join(tmpdir(), 'greenlight-data-home-'));

  /**
   * `args` are more `greenlight hub` flags; `env` goes on top of this process's environment without
   * the GREENLIGHT_* variables a developer may have exported (an undefined value removes a variable),
   * with GREENLIGHT_LOG_LEVEL `warn` unless `env` says otherwise, and GREENLIGHT_FROM_SOURCE as
   * `fromSource()` says unless `env` sets or removes it.
   */
  constructor(
    private readonly args: string[] = [],
    private readonly env: Record<string, string | undefined> = {},
    private readonly options: HubProcessOptions = {},
  ) {}

  /** The running hub's process id (its event loop runs on this process's main thread). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Everything the hub printed so far, across restarts. */
  output(): string {
    return this.log;
  }

  /** The port it listens on, once started. */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /**
   * Starts the hub and resolves with its URL once it is listening and answers /healthz. `port`
   * overrides the one given at construction (a restart on the port clients know).
   */
  async start(port = this.options.port ?? 0): Promise<string> {
    const timeoutMs = this.options.timeoutMs ?? 90_000;
    const keys = sharedTestKeyFiles();
    const env: Record<string, string | undefined> = {
      ...withoutGreenlightVariables(process.env),
      GREENLIGHT_LOG_LEVEL: 'warn',
      GREENLIGHT_FROM_SOURCE: fromSource(),
      GREENLIGHT_CHECKPOINT_KEY: keys.checkpointKeyFile,
      GREENLIGHT_KEY_ENCRYPTION_KEY: keys.keyEncryptionKeyFile,
      XDG_DATA_HOME: this.dataHome,
      ...this.env,
    };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete env[name];
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'greenlight.mjs'), 'hub', '--port', String(port), ...this.args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const record = (chunk: Buffer) => {
      this.log += chunk.toString();
      if (this.options.logFile) appendFileSync(this.options.logFile, chunk);
    };
    child.stdout?.on('data', record);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`The hub exited with ${code} before it was healthy:\n${this.log}`))),
    );
    exited.catch(() => undefined);
    let stderr: string | null = '';
    const listening = new Promise<string>((resolve) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        record(chunk);
        if (stderr === null) return;
        stderr += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match?.[1]) {
          this.listeningAfterMs = performance.now() - spawnedAt;
          stderr = null;
          resolve(match[1]);
        }
      });
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`The hub was not healthy within ${timeoutMs} ms:\n${this.log}`));
      }, timeoutMs);
    });
    try {
      this.url = await Promise.race([listening, exited, timedOut]);
      await Promise.race([healthy(this.url, child), exited, timedOut]);
    } finally {
      clearTimeout(timer);
    }
    return this.url;
  }

  /** Ends the process the hard way: no shutdown code runs. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, so the hub shuts down as it would in production; SIGKILL if it has not exited after 5 s. Resolves with its exit status. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child) return null;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

/** Set by the vitest runs' global setup (build-hub.ts) once it has built dist/server from the current sources. */
export const SPAWN_FROM_BUILD = 'GREENLIGHT_TEST_SPAWN_FROM_BUILD';

/**
 * GREENLIGHT_FROM_SOURCE for a spawned hub or CLI command: unset (bin/greenlight.mjs runs dist/server)
 * when this run built it, else `1` (the TypeScript sources through tsx, as the Playwright suite does).
 */
export function fromSource(): '1' | undefined {
  return process.env[SPAWN_FROM_BUILD] === '1' ? undefined : '1';
}

/** The environment without GREENLIGHT_* variables, so what a developer exported never reaches a test's hub. */
export function withoutGreenlightVariables(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const clean: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith('GREENLIGHT_')) clean[name] = value;
  return clean;
}

/** Polls /healthz until it answers 200; gives up once the process is gone (its exit rejects the start). */
async function healthy(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) return new Promise<never>(() => undefined);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not answering yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A temporary data directory for a hub, with its policy file written there when one is given. */
export class HubDataDir {
  readonly path = mkdtempSync(path.join(tmpdir(), 'greenlight-hub-'));
  readonly policyFile: string | null = null;

  constructor(policy?: string) {
    if (policy === undefined) return;
    this.policyFile = path.join(this.path, 'policy.yaml');
    writeFileSync(this.policyFile, policy);
  }

  /** `--data-dir`, and `--policy` when there is one, for `greenlight hub`. */
  get args(): string[] {
    return ['--data-dir', this.path, ...(this.policyFile ? ['--policy', this.policyFile] : [])];
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface SpawnHubOptions {
  /** Policy YAML written into the data directory; the hub's default policy when absent. */
  policy?: string;
  /** The admin token; a random one when absent. */
  adminToken?: string;
  /** More `greenlight hub` flags. */
  args?: string[];
  /** More environment variables for the hub's process (a shifted clock's). */
  env?: Record<string, string>;
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
  createUser(user: { name: string; roles: string[]; groups: string[]; email?: string }): Promise<{ name: string; token: string }>;
  /** SIGTERM (SIGKILL after 5 s), then removes the data directory unless asked to keep it. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/**
 * A started HubProcess with everything of its own: a free port on 127.0.0.1 chosen up front, a
 * temporary data directory, an admin token and optionally a policy file there.
 */
export async function spawnHub(options: SpawnHubOptions = {}): Promise<SpawnedHub> {
  const port = await freePort();
  const data = new HubDataDir(options.policy);
  const dataDir = data.path;
  const adminToken = options.adminToken ?? `glt_${randomBytes(24).toString('hex')}`;
  const logFile = options.logToFile ? path.join(dataDir, 'hub.log') : null;
  const hub = new HubProcess(
    ['--host', '127.0.0.1', ...data.args, ...(options.args ?? [])],
    // The log level this process was given, else the hub's own default, so a log file tells the whole story.
    { GREENLIGHT_ADMIN_TOKEN: adminToken, GREENLIGHT_LOG_LEVEL: process.env.GREENLIGHT_LOG_LEVEL, ...options.env },
    { port, logFile: logFile ?? undefined, timeoutMs: options.timeoutMs },
  );
  try {
    await hub.start();
  } catch (error) {
    await hub.kill();
    throw error;
  }
  const url = hub.url;

  return {
    url,
    adminToken,
    dataDir,
    logFile,
    output: () => hub.output(),
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
      await hub.stop();
      if (!stopOptions.keepData) data.remove();
    },
  };
}
