import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedTestKeyFiles } from '../test-support/test-keys.js';

/** Test support: runs `bin/greenlight.mjs` as a real child process, so exit codes and streams are real. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'greenlight.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The parent's environment without any GREENLIGHT_* a developer may have exported; the CLI runs from
 * its TypeScript sources (the code under test, not its last build) unless `extra` says otherwise.
 */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GREENLIGHT_')) env[key] = value;
  const keys = sharedTestKeyFiles();
  return { ...env, GREENLIGHT_FROM_SOURCE: '1', GREENLIGHT_CHECKPOINT_KEY: keys.checkpointKeyFile, GREENLIGHT_KEY_ENCRYPTION_KEY: keys.keyEncryptionKeyFile, ...extra };
}

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private readonly listeners = new Set<() => void>();

  constructor(args: string[], env: Record<string, string>, stdin?: string) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (stdin !== undefined) this.child.stdin?.end(stdin);
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => this.append('stdout', text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => this.append('stderr', text));
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code) => {
        this.notify();
        resolve({ code, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  private append(stream: 'stdout' | 'stderr', text: string): void {
    this[stream] += text;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves with the first match of `pattern` in the stream; rejects if the process exits or the guard passes first. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, guardMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this[stream].match(pattern);
        if (match) finish(() => resolve(match));
        else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          finish(() => reject(new Error(`process exited (${this.child.exitCode}) before ${stream} matched ${pattern}:\n${this.stdout}\n${this.stderr}`)));
        }
      };
      const guard = setTimeout(() => finish(() => reject(new Error(`${stream} did not match ${pattern} within ${guardMs} ms:\n${this[stream]}`))), guardMs);
      const finish = (settle: () => void) => {
        clearTimeout(guard);
        this.listeners.delete(check);
        settle();
      };
      this.listeners.add(check);
      check();
    });
  }
}

export const startCli = (args: string[], env: Record<string, string> = {}, stdin?: string): CliProcess => new CliProcess(args, env, stdin);
export const cli = (args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliResult> => startCli(args, env, stdin).exited;

export const TEST_POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    minApprovals: 1
    grantTtl: 15m
  - name: staging
    match: { environment: staging }
    autoApprove: true
  - name: databases
    match: { action: db-open }
    approvers: [dba]
`;

/** A hub started through the CLI on a free port with its own data folder and admin token. */
export class HubProcess {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-cli-'));
  readonly dataDir = path.join(this.dir, 'data');
  readonly policyFile = path.join(this.dir, 'policy.yaml');
  readonly adminToken = `glt_${randomBytes(24).toString('base64url')}`;
  url = '';
  private process: CliProcess | null = null;

  /** `databaseUrl` puts the hub on PostgreSQL, passed the way operators do: GREENLIGHT_DATABASE_URL. */
  constructor(
    private readonly policy = TEST_POLICY,
    private readonly databaseUrl?: string,
  ) {}

  /** Starts (or restarts, keeping the data folder) the hub; port 0 picks a free one. */
  async start(port = 0): Promise<void> {
    writeFileSync(this.policyFile, this.policy);
    this.process = startCli(['hub', '--port', String(port), '--data-dir', this.dataDir, '--policy', this.policyFile, '--log-level', 'warn'], {
      GREENLIGHT_ADMIN_TOKEN: this.adminToken,
      ...(this.databaseUrl ? { GREENLIGHT_DATABASE_URL: this.databaseUrl } : {}),
    });
    const [, url] = await this.process.waitFor('stderr', /Greenlight hub listening on (http:\/\/\S+)/, 30_000);
    this.url = url ?? '';
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Environment for a CLI call as the user holding `token`. */
  as(token: string): Record<string, string> {
    return { GREENLIGHT_HUB: this.url, GREENLIGHT_TOKEN: token };
  }

  get admin(): Record<string, string> {
    return this.as(this.adminToken);
  }

  /** Creates a user through `greenlight user add` and returns their token. */
  async addUser(name: string, roles: string[], groups: string[] = []): Promise<string> {
    const args = ['user', 'add', name, ...roles.flatMap((role) => ['--role', role]), ...groups.flatMap((group) => ['--group', group])];
    const result = await cli(args, this.admin);
    if (result.code !== 0) throw new Error(`user add ${name} failed (${result.code}): ${result.stderr}`);
    return result.stdout.trim();
  }

  /** SIGTERM, then the hub's exit status. */
  async stop(): Promise<number | null> {
    const running = this.process;
    if (!running) return null;
    this.process = null;
    running.child.kill('SIGTERM');
    return (await running.exited).code;
  }

  /** SIGKILL: the hub dies without closing anything, as in a crash. */
  async kill(): Promise<void> {
    const running = this.process;
    if (!running) return;
    this.process = null;
    running.child.kill('SIGKILL');
    await running.exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
