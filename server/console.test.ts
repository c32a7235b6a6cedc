import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestHub } from './test-support/hub-fixture.js';

describe('the web console the hub serves at /', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-console-'));
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Greenlight</title><script type="module" src="./assets/app-1a2b.js"></script>');
  writeFileSync(path.join(dir, 'assets', 'app-1a2b.js'), 'console.log("hi")');
  const hub = new TestHub('sqlite', { consoleDir: dir });
  beforeAll(() => hub.start());
  afterAll(async () => {
    await hub.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page with a strict CSP and no caching', async () => {
    const response = await fetch(`${hub.url}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>Greenlight</title>');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('caches content-hashed assets for good', async () => {
    const response = await fetch(`${hub.url}/assets/app-1a2b.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers /favicon.ico with the app icon instead of a 404 on every page load', async () => {
    const response = await fetch(`${hub.url}/favicon.ico`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.slice(1, 4)].map((byte) => String.fromCharCode(byte)).join('')).toBe('PNG');
  });

  it('keeps API errors as JSON next to the console', async () => {
    const response = await fetch(`${hub.url}/api/v1/nope`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
