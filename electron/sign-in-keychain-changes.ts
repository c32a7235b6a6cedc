import type { Keychain, StoredCredential } from './keychain.js';

/**
 * What a sign-in changed in the keychain, with each entry as it was before, so a sign-in cancelled after
 * it saved its token (over the entry of the same hub) or removed the hub left behind's can put the
 * keychain back as it found it: the session kept before is then kept still, as after a sign-in cancelled
 * before it stored anything. Only sound while nothing else changes the keychain between a change and its
 * putting back: callers run all of it in one turn of the keychain queue.
 */
export class SignInKeychainChanges {
  private readonly before = new Map<string, StoredCredential | null>();

  constructor(private readonly keychain: Keychain) {}

  /** Saves `entry` for `hubUrl`, noting the entry there before. */
  async save(hubUrl: string, entry: StoredCredential): Promise<void> {
    const before = await this.readBefore(hubUrl);
    await this.keychain.save(hubUrl, entry);
    this.changed(hubUrl, before);
  }

  /** Removes `hubUrl`'s entry, noting it. */
  async remove(hubUrl: string): Promise<void> {
    const before = await this.readBefore(hubUrl);
    await this.keychain.remove(hubUrl);
    this.changed(hubUrl, before);
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

  /** No keychain to read: nothing known, nothing put back (the change itself then fails too). */
  private async readBefore(hubUrl: string): Promise<StoredCredential | null> {
    return this.keychain.read(hubUrl).catch(() => null);
  }

  private changed(hubUrl: string, entry: StoredCredential | null): void {
    if (!this.before.has(hubUrl)) this.before.set(hubUrl, entry);
  }
}
