import { createKeychain, loadKeytar, type Keychain } from '../keychain.js';

const keytar = await loadKeytar();

/** Why this machine has no Secret Service to test against (tests that need one say so as they skip), or null when it has one. */
export const noSecretService: string | null = await (async () => {
  if (!keytar) return 'keytar is not installed (it is an optional dependency)';
  try {
    await keytar.getPassword('Greenlight-probe', 'probe');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
})();

/** The app's keychain over the OS's Secret Service. */
export function realKeychain(): Keychain {
  return createKeychain(keytar);
}
