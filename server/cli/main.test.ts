import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from './main.js';
import type { Io } from './output.js';

/** An in-memory Io: `run` is exercised without spawning a process. */
function memoryIo(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const io: Io = { stdout, stderr, env };
  return { io, out: () => out, err: () => err };
}

describe('run', () => {
  it('returns 0 for --help and --version, writing to the given stdout', async () => {
    const help = memoryIo();
    expect(await run(['--help'], help.io)).toBe(0);
    expect(help.out()).toContain('Usage: greenlight [options] [command]');
    const version = memoryIo();
    expect(await run(['--version'], version.io)).toBe(0);
    expect(version.out().trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('returns 2 for a usage error and prints it on the given stderr', async () => {
    const bad = memoryIo();
    expect(await run(['request', '--action', 'deploy'], bad.io)).toBe(2);
    expect(bad.err()).toContain("required option '--resource <resource>' not specified");
    expect(bad.out()).toBe('');
  });

  it('reads the token and hub from the injected environment, not the process', async () => {
    const noToken = memoryIo({});
    expect(await run(['show', 'req_1'], noToken.io)).toBe(2);
    expect(noToken.err().trim()).toBe('error: no API token: pass --token or set GREENLIGHT_TOKEN');

    const badHub = memoryIo({ GREENLIGHT_TOKEN: 'glt_x', GREENLIGHT_HUB: 'not a url' });
    expect(await run(['show', 'req_1'], badHub.io)).toBe(2);
    expect(badHub.err().trim()).toBe('error: --hub: must be an http:// or https:// URL');
  });
});
