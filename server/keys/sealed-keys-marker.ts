import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { deriveKey } from './derive-key.js';

/**
 * A hub's memory, kept beside the key-encryption key file and so out of reach of whoever writes the
 * database, that this key has held sealed grant signing keys: from then on a table of plain-text keys
 * is someone else's doing, never an older hub's, and is not sealed.
 */
export interface SealedKeysMemory {
  /** The marker's file, for messages. */
  readonly file: string;
  /** When this key-encryption key was first seen holding sealed keys, or null: never here. */
  sealedSince(): string | null;
  /** Why the file could not be written now (the folder is read-only, say), or null: it can. Writes nothing that stays. */
  unwritable(): string | null;
  /** Records it (once); why the file cannot be written, else null. */
  remember(now: Date): string | null;
}

/** Names the key-encryption key without giving anything of it away, so a marker left from a replaced key file counts for nothing. */
const fingerprint = (kek: Buffer) => createHash('sha256').update(deriveKey(kek, 'sealed signing keys marker')).digest('base64url').slice(0, 22);

interface Marker {
  keyEncryptionKey: string;
  since: string;
}

export function sealedKeysMemory(kek: Buffer, kekFile: string): SealedKeysMemory {
  const file = `${kekFile}.sealed`;
  const mine = fingerprint(kek);
  const read = (): Marker | null => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      // Unreadable is not absent: a file someone can't read still says keys were sealed.
      return { keyEncryptionKey: mine, since: 'unknown (the file cannot be read)' };
    }
    // Anything but what a hub writes (torn, empty, edited by hand) still says keys were sealed: only removing the file says otherwise.
    const unknown = { keyEncryptionKey: mine, since: 'unknown (the file is not as a hub writes it)' };
    try {
      const marker = JSON.parse(text) as Partial<Marker> | null;
      return typeof marker?.keyEncryptionKey === 'string' ? { keyEncryptionKey: marker.keyEncryptionKey, since: String(marker.since ?? 'unknown') } : unknown;
    } catch {
      return unknown;
    }
  };
  return {
    file,
    sealedSince() {
      const marker = read();
      return marker && marker.keyEncryptionKey === mine ? marker.since : null;
    },
    unwritable() {
      const probe = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
      try {
        writeFileSync(probe, '', { mode: 0o600 });
        return null;
      } catch (error) {
        return (error as Error).message;
      } finally {
        rmSync(probe, { force: true });
      }
    },
    remember(now) {
      if (this.sealedSince() !== null) return null;
      const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
      try {
        writeFileSync(partial, `${JSON.stringify({ keyEncryptionKey: mine, since: now.toISOString() })}\n`, { mode: 0o600 });
        chmodSync(partial, 0o600);
        renameSync(partial, file);
        return null;
      } catch (error) {
        rmSync(partial, { force: true });
        return (error as Error).message;
      }
    },
  };
}
