import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { deployRequest } from '../test-support/hub-fixture.js';
import { CliError, EXIT } from './cli-error.js';
import { CliHttp } from './http.js';
import type { Io } from './output.js';
import { submitOnce } from './submit-retry.js';

const servers: Server[] = [];
afterEach(() => Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve)))));

async function listening(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

/** A run on a clock the test moves: sleeping advances it, nothing waits. */
function run() {
  let clock = 0;
  let sleeps = 0;
  let notes = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk: Buffer) => (notes += chunk.toString()));
  const io: Io = { stdout: new PassThrough(), stderr, env: {} };
  const sleep = async (ms: number) => {
    sleeps += 1;
    clock += ms;
  };
  return { options: { io, budgetSeconds: 5, now: () => clock, sleep }, sleeps: () => sleeps, notes: () => notes };
}

const failure = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => null, (error: unknown) => error);

describe('submitOnce decides "never sent" from the HTTP client, not from the wording of its error', () => {
  it('a closed port (a hub restarting) sent nothing: retried within the budget, then said without "may have been submitted"', async () => {
    const http = new CliHttp(await closedPortUrl(), 'glt_x');
    const attempt = run();
    const error = await failure(submitOnce(http, deployRequest(), attempt.options));
    expect(error).toMatchObject({ localCode: 'UNREACHABLE', exitCode: EXIT.usage });
    expect((error as CliError).message).toMatch(/ECONNREFUSED .*; nothing was submitted$/);
    expect(attempt.sleeps()).toBeGreaterThan(0);
    expect(attempt.notes()).toContain('retrying');
  });

  it('a hub name that does not resolve on the first try is a wrong address: said at once, not retried', async () => {
    const http = new CliHttp('http://greenlight-hub.invalid:7300', 'glt_x');
    const attempt = run();
    const error = await failure(submitOnce(http, deployRequest(), attempt.options));
    expect(error).toMatchObject({ localCode: 'UNREACHABLE', noSuchHost: true, exitCode: EXIT.usage });
    expect((error as CliError).message).toContain('ENOTFOUND');
    expect(attempt.sleeps()).toBe(0);
    expect(attempt.notes()).toBe('');
  });

  it('a connection the far end dropped after taking the request may have been submitted: retried, then the key to get it back', async () => {
    const dropping = createServer((request) => request.socket.destroy());
    const http = new CliHttp(await listening(dropping), 'glt_x');
    const attempt = run();
    const error = await failure(submitOnce(http, deployRequest({ idempotencyKey: 'build-7' }), attempt.options));
    expect(error).toMatchObject({ localCode: 'UNREACHABLE', neverSent: false });
    expect((error as CliError).message).toContain('--idempotency-key build-7');
    expect(attempt.sleeps()).toBeGreaterThan(0);
    expect(attempt.notes()).toContain('retrying');
  });
});
