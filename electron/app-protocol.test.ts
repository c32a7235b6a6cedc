import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAppProtocolHandler } from './app-protocol.js';

const root = '/app/renderer/dist';
const files = new Map<string, string>([
  [join(root, 'index.html'), '<!doctype html><title>Greenlight</title>'],
  [join(root, 'assets/main.js'), 'console.log(1)'],
  // Exists, but outside the served folder: must never be reachable.
  ['/app/secret.js', 'secret'],
]);
const handler = createAppProtocolHandler({
  root,
  readFile: async (path) => {
    const text = files.get(path);
    if (text === undefined) throw new Error('ENOENT');
    return new TextEncoder().encode(text);
  },
});

describe('app:// protocol', () => {
  it('serves the built renderer with the CSP header', async () => {
    const response = await handler({ url: 'app://greenlight/index.html' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await response.text()).toContain('Greenlight');
    const script = await handler({ url: 'app://greenlight/assets/main.js' });
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('answers a client-side route with index.html', async () => {
    expect(await (await handler({ url: 'app://greenlight/requests/req_1' })).text()).toContain('Greenlight');
  });

  it('refuses paths outside the renderer folder, other hosts and missing files', async () => {
    for (const url of ['app://greenlight/../../etc/passwd.txt', 'app://greenlight/%2e%2e/%2e%2e/etc/passwd.txt', 'app://greenlight/..%2f..%2fsecret.js', 'app://other/index.html', 'app://greenlight/missing.js']) {
      expect((await handler({ url })).status, url).toBe(404);
    }
  });
});
