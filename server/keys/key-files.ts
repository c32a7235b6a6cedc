import { randomBytes, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { TrustedCheckpointKey } from '../domain/checkpoints.js';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Key files kept outside the database and outside the data directory, so a copy of either holds no
 * secret that signs. Each is created on first use with mode 0600, atomically (written beside, then
 * hard-linked into place), so hubs starting together on one machine end up with the same key.
 */

/** `$XDG_CONFIG_HOME/greenlight`, falling back to `~/.config/greenlight` as the XDG spec does. */
export function defaultKeyDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(os.homedir(), '.config');
  return path.join(base, 'greenlight');
}

export const defaultCheckpointKeyFile = (env: NodeJS.ProcessEnv) => path.join(defaultKeyDir(env), 'checkpoint-key.pem');
export const defaultKeyEncryptionKeyFile = (env: NodeJS.ProcessEnv) => path.join(defaultKeyDir(env), 'key-encryption-key');

export class KeyFileError extends Error {}

function createExclusively(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
  writeFileSync(partial, content, { mode: 0o600 });
  chmodSync(partial, 0o600);
  try {
    linkSync(partial, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(partial, { force: true });
  }
}

function readOrCreate(file: string, what: string, create: () => string): { text: string; created: boolean } {
  let created = false;
  try {
    statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyFileError(`cannot read the ${what} ${file}: ${(error as Error).message}`);
    try {
      createExclusively(file, create());
      created = true;
    } catch (failure) {
      throw new KeyFileError(`cannot create the ${what} ${file}: ${(failure as Error).message}`);
    }
  }
  const mode = statSync(file).mode & 0o077;
  if (mode !== 0) throw new KeyFileError(`the ${what} ${file} can be read by other users (mode ${(statSync(file).mode & 0o777).toString(8)}); chmod 600 it`);
  return { text: readFileSync(file, 'utf8'), created };
}

export interface CheckpointKey {
  file: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  created: boolean;
}

/** The Ed25519 key audit checkpoints are signed with (PKCS#8 PEM). */
export function loadCheckpointKey(file: string): CheckpointKey {
  const { text, created } = readOrCreate(file, 'checkpoint key', () =>
    generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  );
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch {
    throw new KeyFileError(`the checkpoint key ${file} is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new KeyFileError(`the checkpoint key ${file} is not an Ed25519 key`);
  return { file, privateKey, publicKey: createPublicKey(privateKey), created };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;
const UNTIL_SEQ = /^\s*until-seq:\s*(\d+)\s*$/m;

/**
 * Public keys for checking checkpoints: every PEM block of the file, public keys or private ones (a
 * key file itself), so one file can hold each key the hubs have signed with. A line `until-seq: N`
 * before a block marks that key retired after event N. `retired`: every block must be a public key
 * with such a line (a retired key's private half has no business on a hub, and without its end
 * whoever kept the key could go on signing).
 */
export function readCheckpointPublicKeys(file: string, { retired = false } = {}): TrustedCheckpointKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KeyFileError(`cannot read the checkpoint key ${file}: ${(error as Error).message}`);
  }
  const keys: TrustedCheckpointKey[] = [];
  let before = 0;
  for (const match of text.matchAll(PEM_BLOCK)) {
    const block = match[0];
    const number = keys.length + 1;
    const until = UNTIL_SEQ.exec(text.slice(before, match.index));
    before = match.index + block.length;
    const untilSeq = until ? Number(until[1]) : null;
    if (untilSeq !== null && !Number.isSafeInteger(untilSeq)) throw new KeyFileError(`${file}: the until-seq before PEM block ${number} is not an event number`);
    if (retired && match[1] !== 'PUBLIC KEY') throw new KeyFileError(`${file}: PEM block ${number} is not a public key; a retired checkpoint key is kept as its public half only (openssl pkey -pubout)`);
    if (retired && !until) throw new KeyFileError(`${file}: PEM block ${number} has no "until-seq: N" line before it, the last event the retired key may vouch for`);
    let key: KeyObject;
    try {
      key = createPublicKey(block);
    } catch {
      throw new KeyFileError(`${file}: PEM block ${number} is not an Ed25519 checkpoint key`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new KeyFileError(`${file}: PEM block ${number} is not an Ed25519 checkpoint key`);
    keys.push({ key, untilSeq });
  }
  if (keys.length === 0) throw new KeyFileError(`${file} holds no Ed25519 checkpoint key (PEM)`);
  // A line after the last key ends no key: written after its block, it would end the next one added.
  if (UNTIL_SEQ.test(text.slice(before))) throw new KeyFileError(`${file}: an until-seq line follows the last key; put each before the key it ends`);
  return keys;
}

export interface KeyEncryptionKey {
  file: string;
  key: Buffer;
  created: boolean;
}

/** 32 random bytes, base64: the AES-256-GCM key the grant signing keys are encrypted with in the database. */
export function loadKeyEncryptionKey(file: string): KeyEncryptionKey {
  const { text, created } = readOrCreate(file, 'key-encryption key', () => `${randomBytes(32).toString('base64')}\n`);
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new KeyFileError(`the key-encryption key ${file} is not 32 bytes of base64`);
  return { file, key, created };
}
