import type { Keychain, StoredCredential } from './keychain.js';

/**
 * What a sign-in changed in the keychain, with each entry as it was before, so a sign-in cancelled after
 * it saved its token (over the entry of the same hub) or removed the hub left behind's can put the
 * keychain back as it found it: the session kept before is then kept still, as after a sign-in cancelled
 * before it stored anything.
 */
export class SignInKeychainChanges {
  private readonly before = new Map<string, StoredCredential | null>();

  constructor(private readonly keychain: Keychain) {}

  /** Reads the entry of `hubUrl` as it is now; call before changing it. No keychain to read: nothing known, nothing put back. */
  async readBefore(hubUrl: string): Promise<StoredCredential | null> {
    return this.keychain.read(hubUrl).catch(() => null);
  }

  /** Notes that `hubUrl`'s entry, which was `entry` before, was changed. */
  changed(hubUrl: string, entry: StoredCredential | null): void {
    if (!this.before.has(hubUrl)) this.before.set(hubUrl, entry);
  }

  /**
   * Puts every entry changed back as it was. Resolves the single sign-on sessions that could not be
   * put back: kept nowhere any more, they are for the caller to end at the hub.
   */
  async putBack(onError: (error: unknown) => void): Promise<(StoredCredential & { hubUrl: string })[]> {
    const lost: (StoredCredential & { hubUrl: string })[] = [];
    for (const [hubUrl, entry] of this.before) {
      try {
        if (entry) await this.keychain.save(hubUrl, entry);
        else await this.keychain.remove(hubUrl);
      } catch (error) {
        onError(error);
        // The cancelled sign-in's token must not stay where the entry could not be put back.
        if (entry) await this.keychain.remove(hubUrl).catch(onError);
        if (entry?.kind === 'sso') lost.push({ hubUrl, ...entry });
      }
    }
    return lost;
  }

  /** Takes out of `hubUrl`'s entry the token this sign-in stored, unless something else was stored there since. */
  async removeIfStill(hubUrl: string, token: string): Promise<void> {
    const now = await this.keychain.read(hubUrl);
    if (now?.token === token) await this.keychain.remove(hubUrl);
  }
}
