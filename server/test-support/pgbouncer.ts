import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { POSTGRES_ADMIN_URL } from './postgres.js';
import { eventually } from './eventually.js';
import { freePort } from './hub-process.js';

/** Debian installs it in /usr/sbin, which is not on a non-root user's PATH. */
const PGBOUNCER = ['pgbouncer', '/usr/sbin/pgbouncer'].find((command) => spawnSync(command, ['--version']).status === 0);

/** Whether PgBouncer is installed (CI installs it; tests that need it say so when skipped). */
export function pgBouncerAvailability(): { ok: true } | { ok: false; reason: string } {
  return PGBOUNCER ? { ok: true } : { ok: false, reason: 'no pgbouncer on PATH or in /usr/sbin (apt-get install pgbouncer)' };
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** A real PgBouncer in front of the tests' PostgreSQL, every database passed through, trust auth. */
export class PgBouncer {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-pgbouncer-'));
  port = 0;

  constructor(private readonly poolMode: 'transaction' | 'session') {}

  async start(): Promise<this> {
    const upstream = new URL(POSTGRES_ADMIN_URL);
    this.port = await freePort();
    const config = path.join(this.dir, 'pgbouncer.ini');
    const users = path.join(this.dir, 'users.txt');
    writeFileSync(users, `"${decodeURIComponent(upstream.username || 'postgres')}" ""\n`);
    writeFileSync(
      config,
      [
        '[databases]',
        `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${this.port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${users}`,
        `pool_mode = ${this.poolMode}`,
        'max_client_conn = 200',
        'default_pool_size = 10',
        '',
      ].join('\n'),
    );
    // PgBouncer refuses to run as root; as root, it is told which user to become (who must read its files).
    for (const file of [this.dir, config, users]) chmodSync(file, file === this.dir ? 0o755 : 0o644);
    const asRoot = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
    this.child = spawn(PGBOUNCER ?? 'pgbouncer', [...asRoot, config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    this.child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const child = this.child;
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`pgbouncer exited (${child.exitCode}): ${stderr}`);
      return accepts(this.port);
    }, { what: 'pgbouncer listening', deadline: 10_000 });
    return this;
  }

  /** `databaseUrl` (on the tests' PostgreSQL) reached through this PgBouncer instead. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
