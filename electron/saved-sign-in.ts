import { GreenlightError } from '../protocol/errors.js';
import { isKeychainLocked, type Keychain, type StoredCredential } from './keychain.js';

/**
 * The sign-in the keychain keeps for `hubUrl`, which the settings say the app was signed in to when it
 * last ran. Where there is none it fails saying why, for the sign-in page: a locked keychain answers a
 * read with nothing, so only `check` (a write) tells it from an entry that is gone. Where the OS can unlock
 * the keychain, that check asks the person now, and the entry is read again once it is unlocked.
 */
export async function readSavedSignIn(keychain: Keychain, hubUrl: string): Promise<StoredCredential> {
  const stored = await keychain.read(hubUrl);
  if (stored) return stored;
  try {
    await keychain.check();
  } catch (error) {
    if (!isKeychainLocked(error)) throw error;
    throw new GreenlightError(
      'UNAVAILABLE',
      `The OS keychain is locked: unlock it to sign in again automatically to ${hubUrl} when Greenlight next starts, or unlock it and sign in here.`,
    );
  }
  const unlocked = await keychain.read(hubUrl);
  if (unlocked) return unlocked;
  throw new GreenlightError('NOT_FOUND', `The saved sign-in for ${hubUrl} was not found in the OS keychain (it may have been removed there): sign in again.`);
}
