import { hkdfSync } from 'node:crypto';

/**
 * A key for one purpose, derived from the key-encryption key (a file outside the database that every
 * hub of one database shares): each secret the hubs keep or exchange gets its own.
 */
export function deriveKey(keyEncryptionKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', keyEncryptionKey, 'greenlight', purpose, 32));
}
