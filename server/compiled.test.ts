/**
 * What ships: the hub and CLI compiled by `npm run build:server` (which the run's global setup,
 * test-support/build-hub.ts, did before any test), started through bin/greenlight.mjs without tsx,
 * and the one-file CLI for pipelines, run from a folder with no node_modules anywhere above it.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HubClient } from '../protocol/index.js';
import { freePort, HubDataDir, HubProcess } from './test-support/hub-process.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN = 'glt_compiled-hub-admin-token-0123456789';
const POLICY = `
rules:
  - name: staging
    match: { environment: staging }
    autoApprove: true
    grantTtl: 10m
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; nothing of this process's GREENLIGHT_* leaks in. */
function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GREENLIGHT_') && key !== 'NODE_PATH') env[key] = value;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const data = new HubDataDir(POLICY);
// GREENLIGHT_FROM_SOURCE removed: bin/greenlight.mjs runs dist/server.
const hub = new HubProcess(['--host', '127.0.0.1', ...data.args], { GREENLIGHT_FROM_SOURCE: undefined, GREENLIGHT_ADMIN_TOKEN: ADMIN, GREENLIGHT_LOG_LEVEL: 'info' });

beforeAll(async () => {
  await hub.start();
});
afterAll(async () => {
  await hub.stop();
  data.remove();
});

describe('the compiled hub', () => {
  it('starts through bin/greenlight.mjs from dist/server and answers /healthz and /readyz', async () => {
    expect(existsSync(path.join(ROOT, 'dist', 'server', 'greenlight.mjs'))).toBe(true);
    expect((await fetch(`${hub.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${hub.url}/readyz`)).json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', scheduler: 'ok', auditCheckpoints: 'ok' } });
    expect(hub.output()).toContain('"msg":"hub started"');
    expect(hub.output()).not.toContain('dist/server is older');
  });

  it('takes Socket.IO connections and serves the docs page, bundled modules and all', async () => {
    const client = new HubClient({ url: hub.url, token: ADMIN, forceNew: true, transports: ['websocket'] });
    try {
      client.connect();
      await client.waitUntilReady();
    } finally {
      client.close();
    }
    const docs = await fetch(`${hub.url}/docs/`);
    expect(docs.status).toBe(200);
    expect((await fetch(`${hub.url}/docs/static/swagger-ui-bundle.js`)).status).toBe(200);
  });

  it('serves its OpenAPI document, whose version is the package version', async () => {
    const spec = (await (await fetch(`${hub.url}/openapi.json`)).json()) as { info: { version: string } };
    const version = await run(process.execPath, [path.join(ROOT, 'bin', 'greenlight.mjs'), '--version'], { cwd: ROOT });
    expect(version.code).toBe(0);
    expect(spec.info.version).toBe(version.stdout.trim());
  });

  it('finds its own files from the project root, never relative to a module the build moves into dist/server/chunks', () => {
    const offenders: string[] = [];
    for (const folder of ['server', 'protocol']) {
      for (const file of readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.startsWith('test-support')) continue;
        readFileSync(path.join(ROOT, folder, file), 'utf8')
          .split('\n')
          .forEach((line, index) => {
            if (line.includes('import.meta.url') && /['"`]\.\.?\//.test(line)) offenders.push(`${folder}/${file}:${index + 1}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('the standalone CLI for pipelines (dist/cli/greenlight.mjs)', () => {
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'greenlight-pipeline-'));
  const cli = path.join(elsewhere, 'greenlight.mjs');
  afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

  beforeAll(() => {
    copyFileSync(path.join(ROOT, 'dist', 'cli', 'greenlight.mjs'), cli);
  });

  it('runs from a folder with no node_modules anywhere above it', async () => {
    for (let dir = elsewhere; dir !== path.dirname(dir); dir = path.dirname(dir)) expect(existsSync(path.join(dir, 'node_modules')), dir).toBe(false);
    const help = await run(process.execPath, [cli, '--help'], { cwd: elsewhere });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: greenlight [options] [command]');
    expect(help.stdout).toContain('request [options]');
    expect((await run(process.execPath, [cli, 'request', '--help'], { cwd: elsewhere })).stdout).toContain('--wait');
  });

  it('asks a real hub, waits for the decision and prints the grant, which verifies', async () => {
    const created = await fetch(`${hub.url}/api/v1/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pipeline', roles: ['requester'], groups: [] }),
    });
    const { token } = (await created.json()) as { token: string };
    const env = { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: token };
    const asked = await run(process.execPath, [cli, 'request', '--action', 'deploy', '--resource', 'web', '--env', 'staging', '--reason', 'release 1.2.3', '--wait', '--timeout', '1m'], { cwd: elsewhere, env });
    expect(asked.code, asked.stderr).toBe(0);
    const grant = asked.stdout.trim();
    expect(grant).toMatch(/^ey[\w-]*\.[\w-]+\.[\w-]+$/);
    const verified = await run(process.execPath, [cli, 'grant', 'verify', grant, '--json'], { cwd: elsewhere, env: { GREENLIGHT_HUB: hub.url } });
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, grant: { action: 'deploy', resource: 'web', environment: 'staging', requester: 'pipeline' } });
  });

  it('says a hub needs the full install', async () => {
    const result = await run(process.execPath, [cli, 'hub', '--port', '0'], { cwd: elsewhere });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'error: this standalone greenlight CLI talks to a hub over HTTP; running a hub, migrations and offline audit checks need the full install (the greenlight package, or its container image)',
    );
  });
});

describe('the container entrypoint (deploy/docker-entrypoint.sh)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-entrypoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = path.join(ROOT, 'deploy', 'docker-entrypoint.sh');

  it('starts the compiled hub from GREENLIGHT_* variables and a config file, answers /readyz, and stops on SIGTERM', async () => {
    const port = await freePort();
    const config = path.join(dir, 'hub.yaml');
    writeFileSync(config, 'rateLimit: 50\nlogLevel: info\n');
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('GREENLIGHT_')) env[key] = value;
    Object.assign(env, { GREENLIGHT_PORT: String(port), GREENLIGHT_DATA_DIR: path.join(dir, 'data'), GREENLIGHT_CONFIG: config, GREENLIGHT_ADMIN_TOKEN: ADMIN });
    const child = spawn('sh', [script], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
        const match = /listening on (http:\/\/\S+)/.exec(stderr);
        if (match?.[1]) resolve(match[1]);
      });
      void exited.then((code) => reject(new Error(`the entrypoint exited (${code}):\n${stderr}`)));
    });
    try {
      // The script's default host for containers: every interface.
      expect(url).toBe(`http://127.0.0.1:${port}`);
      expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok', scheduler: 'ok', auditCheckpoints: 'ok' } });
      const me = await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${ADMIN}` } });
      expect(me.headers.get('x-ratelimit-limit')).toBe('50');
      expect(existsSync(path.join(dir, 'data', 'greenlight.db'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    // exec: the signal reached node itself, which shut down cleanly.
    expect(await exited).toBe(0);
    expect(stdout).toContain('"msg":"hub stopped"');
  });

  it('runs other greenlight commands and other programs', async () => {
    const env = { GREENLIGHT_DATA_DIR: path.join(dir, 'data') };
    const status = await run('sh', [script, 'migrate', 'status'], { cwd: dir, env });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain('up to date');
    const other = await run('sh', [script, 'echo', 'from the entrypoint'], { cwd: dir });
    expect(other).toEqual({ code: 0, stdout: 'from the entrypoint\n', stderr: '' });
  });
});
