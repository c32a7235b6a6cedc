import type { CredentialKind, Keychain } from './keychain.js';

/** The hub, token and kind of a sign-in, as main holds them while signed in. */
export interface HeldCredentials {
  hubUrl: string;
  token: string;
  kind: CredentialKind;
}

/**
 * The single sign-on sessions a sign-in with `token` takes the place of, for it to end once it has
 * succeeded: the one `held`, and the one the keychain keeps for `previousHub`. They differ where main
 * holds nothing the keychain keeps: signed out while the keychain could not remove the entry, or
 * signed in at launch with no keychain. A pasted token is never among them, nor `token` itself.
 */
export async function ssoSessionsReplaced(keychain: Pick<Keychain, 'read'>, token: string, held: HeldCredentials | null, previousHub: string | null): Promise<HeldCredentials[]> {
  const candidates = held ? [held] : [];
  if (previousHub) {
    // No keychain to read (a launch sign-in may run without one): only the session held is known.
    const kept = await keychain.read(previousHub).catch(() => null);
    if (kept) candidates.push({ hubUrl: previousHub, ...kept });
  }
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    if (candidate.kind !== 'sso' || candidate.token === token || seen.has(candidate.token)) return false;
    seen.add(candidate.token);
    return true;
  });
}
