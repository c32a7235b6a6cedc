import { GreenlightError } from '../protocol/errors.js';
import { isKeychainLocked } from './keychain.js';

/** Signed out after the hub stopped taking the session (token revoked, account disabled), in the hub's words. */
export function endedByHubNote(hubUrl: string, said: string): string {
  return `You were signed out by the hub at ${hubUrl}: ${said.replace(/\.?$/, '.')} If your access should continue, ask an admin for a new token.`;
}

/**
 * Signed out, but the keychain kept the entry: the person should know it is there, that the app will not
 * sign in with it, and how to be rid of it. A locked keychain is the usual cause and needs no more words; it
 * can't say whether it holds an entry at all (one signed in while it was locked kept none), hence "may".
 */
export function keptInKeychainNote(hubUrl: string, error: unknown): string {
  const entry = `the entry "Greenlight" for ${hubUrl}`;
  if (isKeychainLocked(error)) {
    return (
      `Signed out, but the OS keychain is locked, so the saved sign-in for ${hubUrl} could not be removed: it may remain in your keychain (${entry}), unless it was never saved there. ` +
      'Greenlight will not use it again. Remove it in your keychain app, or unlock the keychain, sign in and sign out again.'
    );
  }
  const why = error instanceof GreenlightError || error instanceof Error ? error.message : String(error);
  return `Signed out, but the saved sign-in for ${hubUrl} could not be removed from the OS keychain: it remains there (${entry}). Greenlight will not use it again. Remove it in your keychain app. (${why})`;
}
