import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exportToFile } from './audit-commands.js';
import { EXIT } from './cli-error.js';
import { CliHttp } from './http.js';

// Each case lasts a few seconds of real trickling; the guard is for a download nothing stops.
vi.setConfig({ testTimeout: 20_000 });

const servers: Server[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve)))));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for the hub's export endpoint: `answer` writes the body at its own pace. */
async function slowStandInHub(answer: (response: ServerResponse) => void): Promise<string> {
  const server = createServer((_request, response) => answer(response));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function target(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-download-'));
  dirs.push(dir);
  return path.join(dir, 'audit.jsonl');
}

const line = (n: number) => `{"seq":${n}}\n`;
const limits = { answerMs: 5_000, idleMs: 1_000 };

describe('a download from the hub is stopped by silence, not by its length (slow stand-in hub)', () => {
  it('an export still arriving after several idle limits in all is saved whole', async () => {
    const url = await slowStandInHub((response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      let sent = 0;
      const timer = setInterval(() => {
        sent += 1;
        response.write(line(sent));
        if (sent === 12) {
          clearInterval(timer);
          response.end();
        }
      }, 250);
    });
    const http = new CliHttp(url, 'glt_x', fetch, limits);
    const file = target();
    const response = await http.stream('/api/v1/audit', { format: 'jsonl' });
    await exportToFile(response.body as ReadableStream<Uint8Array>, file);
    // Twelve lines a quarter second apart: three seconds of download, three times the idle limit.
    expect(readFileSync(file, 'utf8')).toBe(Array.from({ length: 12 }, (_, n) => line(n + 1)).join(''));
  });

  it('an export that goes quiet half way stops after the idle limit, says why, and leaves no partial file', async () => {
    const url = await slowStandInHub((response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.write(line(1));
    });
    const http = new CliHttp(url, 'glt_x', fetch, limits);
    const file = target();
    const response = await http.stream('/api/v1/audit', { format: 'jsonl' });
    const error = await exportToFile(response.body as ReadableStream<Uint8Array>, file).then(() => null, (failure: unknown) => failure);
    expect(error).toMatchObject({ exitCode: EXIT.usage, localCode: 'UNREACHABLE', message: `the hub at ${url} sent nothing for 1s in the middle of the download, which stopped there; try again` });
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(path.dirname(file))).toEqual([]);
  });

  it('the hub may take longer than the idle limit to start answering (it makes a backup first), up to the answer limit', async () => {
    const url = await slowStandInHub((response) => {
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/x-ndjson' }).end(line(1)), 2_000);
    });
    const response = await new CliHttp(url, 'glt_x', fetch, limits).stream('/api/v1/audit', { format: 'jsonl' });
    expect(await response.text()).toBe(line(1));

    const tooSlow = await new CliHttp(url, 'glt_x', fetch, { answerMs: 500, idleMs: 1_000 }).stream('/api/v1/audit').then(() => null, (failure: unknown) => failure);
    expect(tooSlow).toMatchObject({ exitCode: EXIT.usage, localCode: 'UNREACHABLE', message: `cannot reach the hub at ${url}: no answer in time` });
  });
});
