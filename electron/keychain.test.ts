import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeychain, explainKeychainError, KEYCHAIN_SERVICE, loadKeytar } from './keychain.js';
import { decodeEntry, encodeEntry } from './keychain-entry.js';
import { noSecretService } from './test/real-keychain.js';

const keytar = await loadKeytar();
const probe = noSecretService;

describe('keychain against a real Secret Service', () => {
  it.skipIf(probe !== null)(`stores, reads and deletes a token with its kind (skipped when no Secret Service is reachable: ${probe ?? 'reachable'})`, async () => {
    const keychain = createKeychain(keytar);
    const hubUrl = `http://127.0.0.1:7300/${randomUUID()}`;
    await keychain.save(hubUrl, { token: 'glt_secret', kind: 'pasted' });
    expect(await keychain.read(hubUrl)).toEqual({ token: 'glt_secret', kind: 'pasted' });
    await keychain.save(hubUrl, { token: 'glt_rotated', kind: 'sso' });
    expect(await keychain.read(hubUrl)).toEqual({ token: 'glt_rotated', kind: 'sso' });
    expect(await keychain.remove(hubUrl)).toBe(true);
    expect(await keychain.read(hubUrl)).toBeNull();
  });

  it.skipIf(probe !== null)(`reads an entry kept by an older app (the bare token) as a pasted token (skipped when no Secret Service is reachable: ${probe ?? 'reachable'})`, async () => {
    const hubUrl = `http://127.0.0.1:7300/${randomUUID()}`;
    await keytar?.setPassword(KEYCHAIN_SERVICE, hubUrl, 'glt_from_before');
    const keychain = createKeychain(keytar);
    try {
      expect(await keychain.read(hubUrl)).toEqual({ token: 'glt_from_before', kind: 'pasted' });
    } finally {
      await keychain.remove(hubUrl);
    }
  });
});

describe('keychain entries', () => {
  it('read back as written, kind and all; anything else (an older app\'s bare token, a token that looks like JSON) is a pasted token', () => {
    expect(decodeEntry(encodeEntry({ token: 'glt_a', kind: 'sso' }))).toEqual({ token: 'glt_a', kind: 'sso' });
    expect(decodeEntry(encodeEntry({ token: '{"token":"x","kind":"sso"}', kind: 'pasted' }))).toEqual({ token: '{"token":"x","kind":"sso"}', kind: 'pasted' });
    expect(decodeEntry('glt_bare')).toEqual({ token: 'glt_bare', kind: 'pasted' });
    expect(decodeEntry('{"token":"glt_a","kind":"refresh"}')).toEqual({ token: '{"token":"glt_a","kind":"refresh"}', kind: 'pasted' });
    expect(decodeEntry('{"token":"glt_a"}')).toEqual({ token: '{"token":"glt_a"}', kind: 'pasted' });
  });
});

describe('keychain errors', () => {
  it('says there is no keychain instead of falling back to a file', async () => {
    const keychain = createKeychain({
      getPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
      setPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
      deletePassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
    });
    await expect(keychain.save('http://hub', { token: 't', kind: 'pasted' })).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('No OS keychain is available') });
  });

  it('says the keychain is locked', () => {
    expect(explainKeychainError(new Error('Cannot create an item in a locked collection')).message).toContain('keychain is locked');
  });

  it('fails clearly when keytar itself is missing', async () => {
    await expect(createKeychain(null).read('http://hub')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
