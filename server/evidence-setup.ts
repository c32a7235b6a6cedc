import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Context } from './domain/context.js';
import { Checkpointer, type CheckpointSetup } from './domain/checkpointer.js';
import { checkpointKeyId, keyInUse, readCheckpointLog, type Checkpoint, type TrustedCheckpointKey } from './domain/checkpoints.js';
import { lastSignedCheckpoint } from './domain/checkpoint-chains.js';
import { defaultCheckpointKeyFile, defaultKeyEncryptionKeyFile, loadCheckpointKey, loadKeyEncryptionKey, readCheckpointPublicKeys, type CheckpointKey, type KeyEncryptionKey } from './keys/key-files.js';

/**
 * The hub's evidence against someone with database access: the two key files kept outside the
 * database (read first, so a missing or unreadable one stops the start naming its file), and the
 * checkpoint writer with its log, plus what an operator should be warned about where they live.
 */

export interface KeyFileOptions {
  dataDir?: string;
  checkpointKeyFile?: string;
  /** Public keys of checkpoint keys this hub's key replaced: the checkpoints they signed still count. */
  retiredCheckpointKeysFile?: string;
  keyEncryptionKeyFile?: string;
}

export interface HubKeyFiles {
  checkpointKey: CheckpointKey;
  retiredCheckpointKeys: TrustedCheckpointKey[];
  kek: KeyEncryptionKey;
  warnings: string[];
}

export function loadHubKeyFiles(options: KeyFileOptions): HubKeyFiles {
  const checkpointKey = loadCheckpointKey(options.checkpointKeyFile ?? defaultCheckpointKeyFile(process.env));
  const currentId = checkpointKeyId(checkpointKey.publicKey);
  const retiredCheckpointKeys = options.retiredCheckpointKeysFile ? readCheckpointPublicKeys(options.retiredCheckpointKeysFile, { retired: true }).filter(({ key }) => checkpointKeyId(key) !== currentId) : [];
  const kek = loadKeyEncryptionKey(options.keyEncryptionKeyFile ?? defaultKeyEncryptionKeyFile(process.env));
  // Whoever can write the retired keys can add one of their own: it is kept outside as the key is.
  const retiredFile = options.retiredCheckpointKeysFile ? [{ file: options.retiredCheckpointKeysFile }] : [];
  return { checkpointKey, retiredCheckpointKeys, kek, warnings: insideDataDir(options.dataDir, [checkpointKey, kek, ...retiredFile]) };
}

/** A key file inside the data directory is copied with the database, which is what keeping it outside prevents. */
function insideDataDir(dataDir: string | undefined, files: { file: string }[]): string[] {
  if (!dataDir) return [];
  const root = path.resolve(dataDir) + path.sep;
  return files
    .filter(({ file }) => path.resolve(file).startsWith(root))
    .map(({ file }) => `the key file ${file} is inside the data directory: a copy of the data directory then holds it too. Keep it elsewhere.`);
}

function sameDisk(file: string, dir: string): boolean {
  try {
    return statSync(path.dirname(file)).dev === statSync(dir).dev;
  } catch {
    return false;
  }
}

export interface CheckpointOptions {
  dataDir?: string;
  databaseUrl?: string;
  checkpointLogFile?: string;
  /** The log holds checkpoints of several databases: it can't say which chain this hub signed before. */
  checkpointLogShared?: boolean;
  checkpointEveryEvents?: number;
  checkpointIntervalMs?: number;
}

/** The checkpoint writer, wired to hear the chain grow; `warnings` says when its log shares the database's disk. */
export function setUpCheckpoints(ctx: Context, key: CheckpointKey, retired: TrustedCheckpointKey[], options: CheckpointOptions): { setup: CheckpointSetup; warnings: string[] } {
  const logFile = options.checkpointLogFile ?? path.join(options.dataDir ?? path.dirname(key.file), 'checkpoints.jsonl');
  mkdirSync(path.dirname(logFile), { recursive: true });
  const logShared = options.checkpointLogShared ?? false;
  const warnings: string[] = [];
  const signedBefore = logShared ? null : lastSignedInLog(logFile, [keyInUse(key.publicKey), ...retired], warnings);
  const checkpointer = new Checkpointer(ctx, {
    privateKey: key.privateKey,
    publicKey: key.publicKey,
    hubId: `${os.hostname()}/${randomBytes(4).toString('hex')}`,
    everyEvents: options.checkpointEveryEvents,
    intervalMs: options.checkpointIntervalMs,
    logFile,
    signedBefore,
  });
  ctx.chainAdvanced = (seq) => checkpointer.chainAdvanced(seq);
  if (!options.databaseUrl && options.dataDir && sameDisk(logFile, options.dataDir)) {
    warnings.push(
      `the checkpoint log ${logFile} is on the same disk as the database: someone who can rewrite the database can likely cut the log too. Put it on another disk or an append-only mount (--checkpoint-log), or subscribe a webhook to audit.checkpoint.`,
    );
  }
  return { setup: { publicKey: key.publicKey, keyId: checkpointKeyId(key.publicKey), retired, logFile, logShared, checkpointer }, warnings };
}

/** The last checkpoint the hub's own log holds: which chain it signed before this start. */
function lastSignedInLog(logFile: string, keys: TrustedCheckpointKey[], warnings: string[]): Checkpoint | null {
  if (!existsSync(logFile)) return null;
  try {
    return lastSignedCheckpoint(readCheckpointLog(logFile).flatMap((line) => (line.checkpoint ? [line.checkpoint] : [])), keys);
  } catch (error) {
    warnings.push(`cannot read the checkpoint log ${logFile} (${(error as Error).message}): this hub can't tell which audit chain it signed before, so it will sign whichever the database holds`);
    return null;
  }
}
