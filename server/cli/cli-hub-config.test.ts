import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, postgresAvailability } from '../test-support/postgres.js';
import { cli, startCli, TEST_POLICY, type CliProcess } from './cli-harness.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const pg = await postgresAvailability();
const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-config-cli-'));
const running: CliProcess[] = [];
afterAll(async () => {
  for (const hub of running) if (hub.child.exitCode === null) hub.child.kill('SIGTERM');
  await Promise.all(running.map((hub) => hub.exited));
  rmSync(dir, { recursive: true, force: true });
});

/** The hub's `setting` debug lines, by setting. */
function settingLines(stdout: string): Record<string, { value: unknown; source: string }> {
  const rows = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg?: string; setting?: string; value?: unknown; source?: string })
    .filter((row) => row.msg === 'setting');
  return Object.fromEntries(rows.map((row) => [row.setting, { value: row.value, source: row.source }]));
}

async function startHub(args: string[], env: Record<string, string>): Promise<{ hub: CliProcess; url: string }> {
  const hub = startCli(['hub', ...args], env);
  running.push(hub);
  const [, url] = await hub.waitFor('stderr', /Greenlight hub listening on (http:\/\/\S+)/, 60_000);
  return { hub, url: url ?? '' };
}

describe('greenlight hub settings from --config, GREENLIGHT_* and flags', () => {
  it('applies flag > environment > file > default and logs each setting with its source at debug', async () => {
    const folder = path.join(dir, 'layered');
    const config = path.join(dir, 'layered.yaml');
    writeFileSync(path.join(dir, 'policy.yaml'), TEST_POLICY);
    writeFileSync(config, ['port: 0', 'dataDir: layered', 'policy: policy.yaml', 'rateLimit: 3', 'logLevel: warn'].join('\n'));
    const admin = 'glt_layered-admin-token-000000000000';
    const { hub, url } = await startHub(['--config', config, '--rate-limit', '5'], { GREENLIGHT_LOG_LEVEL: 'debug', GREENLIGHT_ADMIN_TOKEN: admin });

    expect(existsSync(path.join(folder, 'greenlight.db'))).toBe(true);
    // The flag's 5 beats the file's 3: five calls pass, the sixth is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${admin}` } })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);

    const settings = settingLines(hub.stdout);
    expect(settings).toMatchObject({
      config: { value: config, source: 'flag --config' },
      port: { value: 0, source: `config file ${config}` },
      host: { value: '127.0.0.1', source: 'default' },
      dataDir: { value: folder, source: `config file ${config}` },
      policy: { value: path.join(dir, 'policy.yaml'), source: `config file ${config}` },
      logLevel: { value: 'debug', source: 'environment GREENLIGHT_LOG_LEVEL' },
      rateLimit: { value: 5, source: 'flag --rate-limit' },
      trustProxy: { value: false, source: 'default' },
      accessLog: { value: true, source: 'default' },
    });
    expect(settings.databaseUrl).toEqual({ value: null, source: 'default' });
  });

  it('exits 2 naming the unknown key of a config file', async () => {
    const config = path.join(dir, 'typo.yaml');
    writeFileSync(config, 'prot: 7300\n');
    const result = await cli(['hub', '--config', config]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`error: config file ${config}: unknown key "prot" (known keys: port, host, dataDir, policy, databaseUrl, databaseListenUrl, logLevel, rateLimit, trustProxy, accessLog, publicUrl, checkpointKey, retiredCheckpointKeys, keyEncryptionKey, checkpointLog, checkpointLogShared, checkpointEvery, checkpointMinutes, notifiers, oidc)`);
  });

  it('exits 2 naming the variable whose value is wrong, and the missing config file', async () => {
    const bad = await cli(['hub'], { GREENLIGHT_PORT: 'seventy', GREENLIGHT_DATA_DIR: path.join(dir, 'never') });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('error: GREENLIGHT_PORT: expected a port number, 0 to 65535');
    const missing = await cli(['hub'], { GREENLIGHT_CONFIG: path.join(dir, 'nope.yaml') });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe(`error: cannot read the config file ${path.join(dir, 'nope.yaml')}: no such file`);
  });

  it('re-reads the policy on SIGHUP and keeps running', async () => {
    const policy = path.join(dir, 'hup-policy.yaml');
    writeFileSync(policy, TEST_POLICY);
    const { hub, url } = await startHub(['--port', '0', '--data-dir', path.join(dir, 'hup'), '--policy', policy, '--log-level', 'info'], {});
    writeFileSync(policy, `${TEST_POLICY}\n  - name: added\n    match: { action: restart }\n    autoApprove: true\n`);
    hub.child.kill('SIGHUP');
    await hub.waitFor('stdout', /"msg":"SIGHUP: policy file re-read"/);
    expect(hub.child.exitCode).toBeNull();
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it.skipIf(!pg.ok)(`never logs the database password${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, async () => {
    const database = await createTestDatabase();
    try {
      const url = new URL(database.url);
      url.password = 'hunter2-never-logged';
      const { hub } = await startHub(['--port', '0', '--log-level', 'debug'], { GREENLIGHT_DATABASE_URL: url.toString() });
      expect(settingLines(hub.stdout).databaseUrl?.value).toBe(url.toString().replace('hunter2-never-logged', '***'));
      expect(settingLines(hub.stdout).databaseUrl?.source).toBe('environment GREENLIGHT_DATABASE_URL');
      hub.child.kill('SIGTERM');
      await hub.exited;
      expect(hub.stdout + hub.stderr).not.toContain('hunter2');
    } finally {
      await database.drop();
    }
  });
});
