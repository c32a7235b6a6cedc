import { describe, expect, it } from 'vitest';
import { checkLiteralHost, guardedLookup, isPublicAddress, RefusedAddress } from './network-guard.js';

describe('the notification SSRF guard', () => {
  it('allows only global unicast addresses', () => {
    for (const address of ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888']) expect(isPublicAddress(address)).toBe(true);
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd12::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '224.0.0.1', 'not-an-ip']) {
      expect(isPublicAddress(address), address).toBe(false);
    }
  });

  it('refuses IP literals in URLs unless private networks are allowed', () => {
    expect(checkLiteralHost('127.0.0.1', false)).toBeInstanceOf(RefusedAddress);
    expect(checkLiteralHost('[::1]', false)?.message).toMatch(/::1 \(loopback\).*allowPrivateNetworks/);
    expect(checkLiteralHost('127.0.0.1', true)).toBeNull();
    expect(checkLiteralHost('8.8.8.8', false)).toBeNull();
    expect(checkLiteralHost('hooks.example.com', false)).toBeNull();
  });

  it('checks what a name resolves to, at lookup time', async () => {
    const resolve = (allow: boolean, all: boolean) =>
      new Promise<{ error: Error | null; address: unknown }>((done) => guardedLookup(allow)('localhost', { all }, (error, address) => done({ error, address })));
    const refused = await resolve(false, true);
    expect(refused.error).toBeInstanceOf(RefusedAddress);
    expect(refused.error?.message).toMatch(/^localhost resolves to .* \(loopback\)/);
    const allowedAll = await resolve(true, true);
    expect(allowedAll.error).toBeNull();
    expect(Array.isArray(allowedAll.address)).toBe(true);
    const allowedOne = await resolve(true, false);
    expect(typeof allowedOne.address).toBe('string');
  });
});
