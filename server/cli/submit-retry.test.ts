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
  it('a closed port: the request never left, so it says so at once without retrying', async () => {
    const http = new CliHttp(await closedPortUrl(), 'glt_x');
    const attempt = run();
    const error = await failure(submitOnce(http, deployRequest(), attempt.options));
    expect(error).toMatchObject({ localCode: 'UNREACHABLE', neverSent: true, exitCode: EXIT.usage });
    expect((error as CliError).message).not.toContain('may have been submitted');
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

  it('an unreachable hub whose error is worded otherwise is still not retried when nothing was sent', async () => {
    const http = { call: async () => Promise.reject(new CliError('the hub at http://hub did not take the connection', { exitCode: EXIT.usage, localCode: 'UNREACHABLE', neverSent: true })) };
    const attempt = run();
    await expect(submitOnce(http, deployRequest(), attempt.options)).rejects.toThrow(/^the hub at http:\/\/hub did not take the connection$/);
    expect(attempt.sleeps()).toBe(0);
  });
});
