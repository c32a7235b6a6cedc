import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cli, CliHub, startCli } from './cli-harness.js';

// Every step is a real process, and the hub is stopped and started again on its port; leave room for a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 90_000 });

const hub = new CliHub();
let dev: string;
let sre: string;
let port: number;
let up = false;

/** Stops the hub, or starts it again on the port the CLI was told, keeping its data. */
async function hubUp(wanted: boolean): Promise<void> {
  if (wanted === up) return;
  if (wanted) await hub.start(port);
  else await hub.stop();
  up = wanted;
}

const prodArgs = (reason: string, ...extra: string[]) => ['request', '--action', 'deploy', '--resource', 'payments-api', '--env', 'production', '--reason', reason, ...extra];

async function mine(reason: string): Promise<{ id: string; status: string }[]> {
  const listed = await cli(['list', '--mine', '--json'], hub.as(dev));
  expect(listed.code, listed.stderr).toBe(0);
  return (JSON.parse(listed.stdout) as { requests: { id: string; status: string; reason: string }[] }).requests.filter((request) => request.reason === reason);
}

beforeAll(async () => {
  await hub.start();
  up = true;
  port = hub.port;
  dev = await hub.addUser('dev', ['requester'], ['payments']);
  sre = await hub.addUser('sre-1', ['approver'], ['sre']);
});
afterAll(() => hub.dispose());
// A test that failed with the hub stopped leaves it up for the next one.
beforeEach(() => hubUp(true));

describe('request while the hub is away', () => {
  it('started while the hub is down, submits once it is back on its port, waits the rest of --timeout, and asks only once', async () => {
    const env = hub.as(dev);
    await hubUp(false);
    const waiting = startCli(prodArgs('submitted during a restart', '--wait', '--timeout', '60s'), env);
    await waiting.waitFor('stderr', /ECONNREFUSED.*; retrying/);
    await hubUp(true);

    // The retries came out of the 60 s: what is left to wait is less than a minute.
    const [, id, left] = await waiting.waitFor('stderr', /(req_[A-Za-z0-9]+) pending.*; waiting up to (\S+)/);
    expect(left).toMatch(/^\d+s$/);
    expect((await cli(['decide', id ?? '', 'approve'], hub.as(sre))).code).toBe(0);

    const result = await waiting.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^ey/);
    expect(await mine('submitted during a restart')).toEqual([expect.objectContaining({ id, status: 'approved' })]);
  });

  it('a hub name that does not resolve is a wrong address: said at once, not retried', async () => {
    const result = await cli(prodArgs('wrong address', '--wait', '--timeout', '60s'), { ...hub.as(dev), GREENLIGHT_HUB: 'http://greenlight-hub.invalid:7300' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: cannot reach the hub at http:\/\/greenlight-hub\.invalid:7300: .*ENOTFOUND/m);
    expect(result.stderr).not.toContain('retrying');
  });
});
