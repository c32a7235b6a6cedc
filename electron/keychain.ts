import { GreenlightError } from '../protocol/errors.js';
import { decodeEntry, encodeEntry, type StoredCredential } from './keychain-entry.js';

export type { CredentialKind, StoredCredential } from './keychain-entry.js';

export const KEYCHAIN_SERVICE = 'Greenlight';
/** The account `check` writes and removes; never a hub's, which are URLs. */
const CHECK_ACCOUNT = 'keychain check';

/** The part of keytar we use; tests and the app pass the real module. */
export interface KeytarLike {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export interface Keychain {
  /**
   * Fails as `save` would unless the keychain can keep a token now. A read is not enough: a locked Secret
   * Service answers reads (with nothing) and refuses only writes, so this writes an entry of its own and
   * removes it. Where the OS can unlock the keychain it asks the person now, before anything else starts.
   */
  check(): Promise<void>;
  save(hubUrl: string, credential: StoredCredential): Promise<void>;
  read(hubUrl: string): Promise<StoredCredential | null>;
  /** Resolves whether there was an entry to remove; fails as `save` would where one may be there still (a locked keychain). */
  remove(hubUrl: string): Promise<boolean>;
}

const NO_KEYCHAIN =
  'No OS keychain is available (on Linux: a Secret Service such as gnome-keyring or KWallet running in this session). ' +
  'Greenlight keeps your token only in the keychain, so it cannot sign in until one is available.';
const LOCKED =
  'The OS keychain is locked. Unlock it (on Linux: your login keyring) and sign in again.';

/** Whether a keychain call failed because the keychain is locked (and could not be unlocked), not missing or broken. */
export function isKeychainLocked(error: unknown): boolean {
  return error instanceof GreenlightError && error.message.startsWith(LOCKED);
}

/** Turns keytar's low-level failures into a message a person can act on; never falls back to a file. */
export function explainKeychainError(error: unknown): GreenlightError {
  const text = error instanceof Error ? error.message : String(error);
  if (/autolaunch D-Bus|DBUS_SESSION_BUS_ADDRESS|org\.freedesktop\.secrets|was not provided by any \.service files/i.test(text)) {
    return new GreenlightError('UNAVAILABLE', `${NO_KEYCHAIN} (${text})`);
  }
  if (/locked collection|is locked/i.test(text)) return new GreenlightError('UNAVAILABLE', `${LOCKED} (${text})`);
  return new GreenlightError('INTERNAL', `The OS keychain refused the request: ${text}`);
}

/** The token and its kind, stored under service "Greenlight" with the hub URL as the account. */
export function createKeychain(keytar: KeytarLike | null): Keychain {
  const use = async <T>(run: (k: KeytarLike) => Promise<T>): Promise<T> => {
    if (!keytar) throw new GreenlightError('UNAVAILABLE', `${NO_KEYCHAIN} (the keytar module could not be loaded)`);
    try {
      return await run(keytar);
    } catch (error) {
      throw explainKeychainError(error);
    }
  };
  const check = async () => {
    await use((k) => k.setPassword(KEYCHAIN_SERVICE, CHECK_ACCOUNT, 'keychain check'));
    // It could keep an entry, which is all a sign-in needs to know; one left behind holds no secret.
    await use((k) => k.deletePassword(KEYCHAIN_SERVICE, CHECK_ACCOUNT)).catch(() => undefined);
  };
  const remove = (hubUrl: string) => use((k) => k.deletePassword(KEYCHAIN_SERVICE, hubUrl));
  return {
    check,
    save: (hubUrl, credential) => use((k) => k.setPassword(KEYCHAIN_SERVICE, hubUrl, encodeEntry(credential))),
    read: async (hubUrl) => {
      const entry = await use((k) => k.getPassword(KEYCHAIN_SERVICE, hubUrl));
      return entry === null ? null : decodeEntry(entry);
    },
    remove: async (hubUrl) => {
      if (await remove(hubUrl)) return true;
      // A locked Secret Service answers a removal as if there were no entry. Only a write tells the two
      // apart: it fails there (or, where the OS can, asks the person to unlock), and once unlocked the entry can go.
      await check();
      return remove(hubUrl);
    },
  };
}

/** keytar's module name in a variable: the build then needs neither its types nor the module, which a
 * machine without libsecret does not have (the optional dependency failed to build there). */
const KEYTAR_MODULE: string = 'keytar';

function asKeytar(candidate: unknown): KeytarLike | null {
  if (typeof candidate !== 'object' || candidate === null) return null;
  const methods = candidate as Record<keyof KeytarLike, unknown>;
  const complete = typeof methods.getPassword === 'function' && typeof methods.setPassword === 'function' && typeof methods.deletePassword === 'function';
  return complete ? (candidate as KeytarLike) : null;
}

/** keytar is an optional dependency: a machine without it still runs, and sign-in says why it can't. */
export async function loadKeytar(): Promise<KeytarLike | null> {
  try {
    const loaded: unknown = await import(KEYTAR_MODULE);
    // keytar is CommonJS: imported from ESM its functions arrive on the default export.
    return asKeytar((loaded as { default?: unknown }).default) ?? asKeytar(loaded);
  } catch {
    return null;
  }
}
