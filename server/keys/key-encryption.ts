import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** How a sealed value is written in the database: a version, then IV, tag and ciphertext. */
const PREFIX = 'enc:v1:';

export const isEncrypted = (stored: string): boolean => stored.startsWith(PREFIX);

/**
 * AES-256-GCM. `binding` is associated data naming what the value is and which row holds it, so a
 * ciphertext moved to another row (or used as another kind of secret) does not open.
 */
export function seal(key: Buffer, binding: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(binding));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ciphertext.toString('base64url')}`;
}

/** The plaintext, or null when `key` did not seal it for `binding` (or the text was altered). */
export function unseal(key: Buffer, binding: string, stored: string): string | null {
  if (!isEncrypted(stored)) return null;
  const [iv, tag, ciphertext] = stored.slice(PREFIX.length).split(':');
  if (!iv || !tag || ciphertext === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(binding));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

const signingKeyBinding = (rowId: string) => `greenlight signing key ${rowId}`;

export const encryptPrivateKey = (kek: Buffer, rowId: string, plaintext: string): string => seal(kek, signingKeyBinding(rowId), plaintext);

/** The plaintext, or null when this key-encryption key did not encrypt it (or the text was altered). */
export const decryptPrivateKey = (kek: Buffer, rowId: string, stored: string): string | null => unseal(kek, signingKeyBinding(rowId), stored);
