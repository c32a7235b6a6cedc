import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { cli, CliHub, startCli } from './cli-harness.js';

// Every step is a real process; leave room for a loaded machine.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 90_000 });

const hub = new CliHub();
let dev: string;
let sre: string;

beforeAll(async () => {
  await hub.start();
  dev = await hub.addUser('dev', ['requester']);
  sre = await hub.addUser('sre-1', ['approver'], ['sre']);
});
afterAll(() => hub.dispose());

it('keeps waiting through a hub crash and restart and still exits 0 with the grant', async () => {
  const args = ['request', '--action', 'deploy', '--resource', 'payments-api', '--env', 'production', '--reason', 'during a restart', '--wait', '--timeout', '60s'];
  const waiting = startCli(args, hub.as(dev));
  const [, id] = await waiting.waitFor('stderr', /(req_[A-Za-z0-9]+) pending/);

  const port = hub.port;
  await hub.kill();
  await waiting.waitFor('stderr', /cannot reach the hub at .+; retrying until the timeout/);
  await hub.start(port);

  const decided = await cli(['decide', id ?? '', 'approve'], hub.as(sre));
  expect(decided.code).toBe(0);
  const result = await waiting.exited;
  expect(result.code).toBe(0);
  expect(result.stdout.trim()).toMatch(/^ey[\w-]*\.[\w-]+\.[\w-]+$/);
  expect(result.stderr).toContain('reconnected to the hub');
});

it('exits 5 as any timeout does when the hub stays away until the timeout, saying it could not be reached at the end', async () => {
  const args = ['request', '--action', 'deploy', '--resource', 'payments-api', '--env', 'production', '--reason', 'hub gone', '--wait', '--timeout', '8s'];
  const waiting = startCli(args, hub.as(dev));
  const [, id] = await waiting.waitFor('stderr', /(req_[A-Za-z0-9]+) pending/);
  await hub.kill();
  const result = await waiting.exited;
  expect(result.code, result.stderr).toBe(5);
  expect(result.stderr).toContain(`timed out after 8s: ${id} pending`);
  expect(result.stderr).toMatch(/^the hub could not be reached at the end: cannot reach the hub at http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED.*; the state above is the last it reported$/m);
});

it('uses GREENLIGHT_ADMIN_TOKEN for admin commands when no other token is given', async () => {
  await hub.start(hub.port);
  const listed = await cli(['user', 'list'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_ADMIN_TOKEN: hub.adminToken });
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/^admin /m);
  const verified = await cli(['audit', 'verify'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_ADMIN_TOKEN: hub.adminToken });
  expect(verified.code).toBe(0);
});

it('defaults the data folder to $XDG_DATA_HOME/greenlight, prints a generated admin token, and exits 0 on SIGINT', async () => {
  const xdg = mkdtempSync(path.join(os.tmpdir(), 'greenlight-xdg-'));
  try {
    const running = startCli(['hub', '--port', '0', '--log-level', 'silent'], { XDG_DATA_HOME: xdg });
    const [, token] = await running.waitFor('stderr', /Created admin user "admin"\. Token .*: (glt_\S+)/);
    const [, url] = await running.waitFor('stderr', /Greenlight hub listening on (http:\/\/\S+)/);
    expect(existsSync(path.join(xdg, 'greenlight', 'greenlight.db'))).toBe(true);
    expect(readFileSync(path.join(xdg, 'greenlight', 'admin-token'), 'utf8').trim()).toBe(token);
    expect((await cli(['user', 'list'], { GREENLIGHT_HUB: url ?? '', GREENLIGHT_TOKEN: token ?? '' })).code).toBe(0);

    running.child.kill('SIGINT');
    const result = await running.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('SIGINT: shutting down');
  } finally {
    rmSync(xdg, { recursive: true, force: true });
  }
});

it('takes the data folder from GREENLIGHT_DATA_DIR', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-env-'));
  try {
    const running = startCli(['hub', '--port', '0', '--log-level', 'silent'], { GREENLIGHT_DATA_DIR: dir, GREENLIGHT_ADMIN_TOKEN: hub.adminToken });
    await running.waitFor('stderr', /Greenlight hub listening on/);
    expect(existsSync(path.join(dir, 'greenlight.db'))).toBe(true);
    running.child.kill('SIGTERM');
    expect((await running.exited).code).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
