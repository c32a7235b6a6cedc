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

/**
 * The checkpoint writer, wired to hear the chain grow; `warnings` says when its log shares the
 * database's disk, or holds nothing to tell the chain this hub signs by. Read before this start
 * appends its own events.
 */
export async function setUpCheckpoints(ctx: Context, key: CheckpointKey, retired: TrustedCheckpointKey[], options: CheckpointOptions): Promise<{ setup: CheckpointSetup; warnings: string[] }> {
  const logFile = options.checkpointLogFile ?? path.join(options.dataDir ?? path.dirname(key.file), 'checkpoints.jsonl');
  mkdirSync(path.dirname(logFile), { recursive: true });
  const logShared = options.checkpointLogShared ?? false;
  const warnings: string[] = [];
  const signedBefore = logShared ? null : lastSignedInLog(logFile, [keyInUse(key.publicKey), ...retired], warnings);
  const unanchored = logShared || signedBefore ? null : await chainWithoutAnchor(ctx, logFile);
  if (unanchored) warnings.push(unanchored);
  const checkpointer = new Checkpointer(ctx, {
    privateKey: key.privateKey,
    publicKey: key.publicKey,
    hubId: `${os.hostname()}/${randomBytes(4).toString('hex')}`,
    everyEvents: options.checkpointEveryEvents,
    intervalMs: options.checkpointIntervalMs,
    logFile,
    signedBefore,
    withoutAnchor: unanchored !== null,
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

/**
 * Why this hub can't tell a changed chain id from the database's real one, or null: its own log holds
 * no checkpoint it signed (a hub just added beside others, or a log lost) while the database already
 * holds events, perhaps signed by other hubs or by this one before its log went. Nothing else the hub
 * can read says which chain it must expect: the database's own checkpoints can be deleted by whoever
 * changed its chain id, and the other hubs' logs are on their machines. So it says so, and how to give
 * it that memory. (A new database has no events yet: its first checkpoint is the memory.)
 */
async function chainWithoutAnchor(ctx: Context, logFile: string): Promise<string | null> {
  const head = await ctx.store.db.selectFrom('chain_head').select(['seq', 'chain_id']).where('id', '=', 1).executeTakeFirst();
  const events = Number(head?.seq ?? 0);
  if (events === 0) return null;
  return (
    `the checkpoint log ${logFile} holds no checkpoint signed with this hub's checkpoint key, yet the database's audit chain ${head?.chain_id ?? '(unnamed)'} already has ${events} events: ` +
    "this hub can't tell whether that chain's id was changed before this start, and signs whichever chain the database holds. " +
    `If other hubs sign for this database, stop this hub, copy one's checkpoint log to ${logFile} and start it again; if this hub's log was lost, put back a copy (a backup, or what a webhook subscribed to audit.checkpoint received); ` +
    'then run `greenlight audit verify --checkpoints` with those logs to check the chain up to now'
  );
}
