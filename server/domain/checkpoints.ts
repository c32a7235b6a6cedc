import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { canonicalJson } from '../store/json.js';

/**
 * A signed audit checkpoint: "the chain had `seq` events and the last one's hash was `hash`", signed
 * with the checkpoint key, which is kept outside the database. Someone who can write the database can
 * recompute every hash of the chain, but not sign a checkpoint, so the chain up to the latest
 * checkpoint kept elsewhere (a log on another disk, a webhook receiver) can't be cut or rewritten
 * unnoticed.
 */
export const checkpointSchema = z.strictObject({
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 hex hash'),
  at: z.string().min(1),
  hubId: z.string().min(1).max(200),
  /** The database's chain: a log written by hubs of two databases holds both, told apart by this. */
  chainId: z.string().min(1).max(100),
  keyId: z.string().min(1).max(100),
  signature: z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url'),
});
export type Checkpoint = z.infer<typeof checkpointSchema>;

type Signed = Pick<Checkpoint, 'seq' | 'hash' | 'at' | 'hubId' | 'chainId'>;

/** The bytes signed: canonical JSON (keys sorted, no spaces) of exactly these five fields. */
export const signedBytes = (checkpoint: Signed): Buffer =>
  Buffer.from(canonicalJson({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at, hubId: checkpoint.hubId, chainId: checkpoint.chainId }));

/** base64url SHA-256 of the public key's SPKI DER: names the key a checkpoint was signed with. */
export const checkpointKeyId = (publicKey: KeyObject): string =>
  createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');

export function signCheckpoint(privateKey: KeyObject, publicKey: KeyObject, fields: Signed): Checkpoint {
  return { ...fields, keyId: checkpointKeyId(publicKey), signature: sign(null, signedBytes(fields), privateKey).toString('base64url') };
}

/** A key checkpoints are checked with; a retired one vouches only up to `untilSeq`. */
export interface TrustedCheckpointKey {
  key: KeyObject;
  untilSeq: number | null;
}

/** The key a hub signs with now: it vouches for any position. */
export const keyInUse = (key: KeyObject): TrustedCheckpointKey => ({ key, untilSeq: null });

/** The key a checkpoint names; given twice, the narrowest: a retired key's end is never lifted by the same key given without one. */
const keyNamedBy = (keys: readonly TrustedCheckpointKey[], checkpoint: Checkpoint): TrustedCheckpointKey | undefined =>
  keys
    .filter(({ key }) => checkpointKeyId(key) === checkpoint.keyId)
    .reduce<TrustedCheckpointKey | undefined>((narrowest, key) => (narrowest === undefined || (key.untilSeq ?? Infinity) < (narrowest.untilSeq ?? Infinity) ? key : narrowest), undefined);

export function checkpointSignatureValid(keys: readonly TrustedCheckpointKey[], checkpoint: Checkpoint): boolean {
  const trusted = keyNamedBy(keys, checkpoint);
  if (!trusted || (trusted.untilSeq !== null && checkpoint.seq > trusted.untilSeq)) return false;
  try {
    return verify(null, signedBytes(checkpoint), trusted.key, Buffer.from(checkpoint.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Why a checkpoint's signature does not hold, for `audit verify`: a key not given, a retired key past its end, or a forgery. */
export function signatureProblem(keys: readonly TrustedCheckpointKey[], checkpoint: Checkpoint, source: string): string {
  const where = `the checkpoint for event ${checkpoint.seq} in ${source}`;
  const trusted = keyNamedBy(keys, checkpoint);
  if (!trusted) {
    return `${where} names checkpoint key ${checkpoint.keyId}, none of the keys it was checked against: it was forged, or signed with a key not given (pass every key the hubs have signed with: --checkpoint-key for each, or the hub's --retired-checkpoint-keys)`;
  }
  if (trusted.untilSeq !== null && checkpoint.seq > trusted.untilSeq) {
    return `${where} is signed with retired checkpoint key ${checkpoint.keyId}, which vouches only up to event ${trusted.untilSeq}: it was signed after the key was retired, by someone who still holds it`;
  }
  return `${where} has a bad signature: it was forged or altered`;
}

export interface CheckpointLine {
  line: number;
  checkpoint: Checkpoint | null;
  problem?: string;
}

/** Every line of a checkpoint log (JSON lines); a line that is not a checkpoint is reported, not skipped. */
export function readCheckpointLog(file: string): CheckpointLine[] {
  const text = readFileSync(file, 'utf8');
  const out: CheckpointLine[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      out.push({ line: index + 1, checkpoint: null, problem: 'not JSON' });
      return;
    }
    const result = checkpointSchema.safeParse(parsed);
    if (result.success) out.push({ line: index + 1, checkpoint: result.data });
    else out.push({ line: index + 1, checkpoint: null, problem: result.error.issues[0]?.message ?? 'not a checkpoint' });
  });
  return out;
}
