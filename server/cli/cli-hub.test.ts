import { afterAll, beforeAll, expect, it } from 'vitest';
import { cli, HubProcess, startCli } from './cli-harness.js';

const hub = new HubProcess();
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

it('exits 2 when the hub stays away until the timeout', async () => {
  const args = ['request', '--action', 'deploy', '--resource', 'payments-api', '--env', 'production', '--reason', 'hub gone', '--wait', '--timeout', '3s'];
  const waiting = startCli(args, hub.as(dev));
  await waiting.waitFor('stderr', /pending/);
  await hub.kill();
  const result = await waiting.exited;
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^error: cannot reach the hub at /m);
});
