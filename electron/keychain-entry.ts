import { z } from 'zod';

/**
 * How the app came to hold a token, kept with it so the two cannot disagree. `sso`: a session the hub
 * issued to this app's sign-in through the browser, which is the app's to end at sign-out. `pasted`: a
 * token the person pasted (or handed over at launch) and may use elsewhere, which the app never revokes.
 */
export type CredentialKind = 'sso' | 'pasted';
export interface StoredCredential {
  token: string;
  kind: CredentialKind;
}

const entrySchema = z.strictObject({ token: z.string().min(1), kind: z.enum(['sso', 'pasted']) });

/** The keychain entry's text: the token and its kind together, written in one go. */
export function encodeEntry(credential: StoredCredential): string {
  return JSON.stringify({ token: credential.token, kind: credential.kind });
}

/**
 * Reads an entry back. One written before kinds were recorded holds the bare token: its kind is
 * unknown, and read as `pasted`, so an app that cannot tell never revokes a token someone may use elsewhere.
 */
export function decodeEntry(text: string): StoredCredential {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { token: text, kind: 'pasted' };
  }
  const entry = entrySchema.safeParse(parsed);
  return entry.success ? entry.data : { token: text, kind: 'pasted' };
}
