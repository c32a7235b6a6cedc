import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** How an encrypted private key is written in the database: a version, then IV, tag and ciphertext. */
const PREFIX = 'enc:v1:';

export const isEncrypted = (stored: string): boolean => stored.startsWith(PREFIX);

/** AES-256-GCM; the row's id is bound in as associated data, so a ciphertext can't be moved to another row. */
export function encryptPrivateKey(kek: Buffer, rowId: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(`greenlight signing key ${rowId}`));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${PREFIX}${iv.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ciphertext.toString('base64url')}`;
}

/** The plaintext, or null when this key-encryption key did not encrypt it (or the text was altered). */
export function decryptPrivateKey(kek: Buffer, rowId: string, stored: string): string | null {
  const [iv, tag, ciphertext] = stored.slice(PREFIX.length).split(':');
  if (!iv || !tag || ciphertext === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(`greenlight signing key ${rowId}`));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
