import type { Keychain } from './keychain.js';
import { ssoSessionsReplaced, type HeldCredentials } from './replaced-sessions.js';
import { SignInKeychainChanges } from './sign-in-keychain-changes.js';

export interface KeychainSwitch {
  /** The hub, token and kind of the sign-in the hub has accepted. */
  signingIn: HeldCredentials;
  /** The session main holds now, if any, and the hub it was last signed in to. */
  held: HeldCredentials | null;
  previousHub: string | null;
  /** Whether a token the keychain refuses fails the sign-in; if not, it goes on, kept for this run only. */
  required: boolean;
  /** Asked after each change: a sign-in cancelled or overtaken meanwhile no longer is. */
  stillWanted: () => boolean;
  /**
   * Main switching to the sign-in, called at once (no await between) after the last `stillWanted`; with
   * what the keychain could not do, if anything: keep this sign-in's token (`keychainProblem`, this run
   * only then), or remove the hub left behind's entry (`leftBehind`, for the person to remove by hand).
   */
  switchOver: (keychainProblem: unknown, leftBehind: LeftBehindEntry | null) => void;
}

/** The entry of the hub signed in to before, still in the keychain because removing it failed. */
export interface LeftBehindEntry {
  hubUrl: string;
  error: unknown;
}

export type KeychainSwitchOutcome =
  /** Stored and switched over: the single sign-on sessions it took the place of are for the caller to end. */
  | { outcome: 'switched'; replaced: HeldCredentials[] }
  /** The keychain refused to store a token it had to: nothing changed. */
  | { outcome: 'refused'; error: unknown }
  /** No longer wanted: every change put back, but for the sessions in `lost`, kept nowhere any more; `errors` from putting back. */
  | { outcome: 'put back'; lost: HeldCredentials[]; errors: unknown[] };

/**
 * The keychain's part of switching main to a sign-in the hub has accepted: its token saved under its hub,
 * the entry of the hub left behind removed, then the switch. Runs in one turn of the keychain queue, so
 * no other sign-in or sign-out changes the keychain between reading an entry and putting it back: what it
 * puts back is what the person had before this sign-in, never a token another sign-in left for a moment.
 */
export async function switchKeychain(keychain: Keychain, change: KeychainSwitch): Promise<KeychainSwitchOutcome> {
  const { hubUrl, token, kind } = change.signingIn;
  // Read before this sign-in's save overwrites the entry (or the removal of the hub left behind takes it out).
  const replaced = await ssoSessionsReplaced(keychain, token, change.held, change.previousHub);
  const changes = new SignInKeychainChanges(keychain);
  let keychainProblem: unknown = null;
  try {
    await changes.save(hubUrl, { token, kind });
  } catch (error) {
    if (change.required) return { outcome: 'refused', error };
    keychainProblem = error;
  }
  const putBack = async (): Promise<KeychainSwitchOutcome> => {
    const errors: unknown[] = [];
    const lost = await changes.putBack((error) => errors.push(error));
    return { outcome: 'put back', lost, errors };
  };
  if (!change.stillWanted()) return putBack();
  // Signed in elsewhere: the token of the hub left behind is no longer kept.
  const leftBehind = change.previousHub && change.previousHub !== hubUrl ? change.previousHub : null;
  let notRemoved: LeftBehindEntry | null = null;
  if (leftBehind) {
    // Not a failure of this sign-in, whose token is kept: an entry the person removes by hand.
    await changes.remove(leftBehind).catch((error: unknown) => {
      notRemoved = { hubUrl: leftBehind, error };
    });
  }
  if (!change.stillWanted()) return putBack();
  change.switchOver(keychainProblem, notRemoved);
  return { outcome: 'switched', replaced };
}
