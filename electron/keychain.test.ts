import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeychain, explainKeychainError, loadKeytar } from './keychain.js';

const keytar = await loadKeytar();
const probe = await (async (): Promise<string | null> => {
  if (!keytar) return 'keytar is not installed (it is an optional dependency)';
  try {
    await keytar.getPassword('Greenlight-probe', 'probe');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
})();

describe('keychain against a real Secret Service', () => {
  it.skipIf(probe !== null)(`stores, reads and deletes a token (skipped when no Secret Service is reachable: ${probe ?? 'reachable'})`, async () => {
    const keychain = createKeychain(keytar);
    const hubUrl = `http://127.0.0.1:7300/${randomUUID()}`;
    await keychain.save(hubUrl, 'glt_secret');
    expect(await keychain.read(hubUrl)).toBe('glt_secret');
    await keychain.save(hubUrl, 'glt_rotated');
    expect(await keychain.read(hubUrl)).toBe('glt_rotated');
    expect(await keychain.remove(hubUrl)).toBe(true);
    expect(await keychain.read(hubUrl)).toBeNull();
  });
});

describe('keychain errors', () => {
  it('says there is no keychain instead of falling back to a file', async () => {
    const keychain = createKeychain({
      getPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
      setPassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
      deletePassword: () => Promise.reject(new Error('Cannot autolaunch D-Bus without X11 $DISPLAY')),
    });
    await expect(keychain.save('http://hub', 't')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('No OS keychain is available') });
  });

  it('says the keychain is locked', () => {
    expect(explainKeychainError(new Error('Cannot create an item in a locked collection')).message).toContain('keychain is locked');
  });

  it('fails clearly when keytar itself is missing', async () => {
    await expect(createKeychain(null).read('http://hub')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
