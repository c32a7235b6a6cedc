import { checkpointSignatureValid, type Checkpoint, type TrustedCheckpointKey } from './checkpoints.js';

/**
 * Which database's chain a checkpoint log speaks for. A log of its own holds one chain: hubs refuse to
 * sign a second one into it (see `lastSignedCheckpoint`). So another chain's checkpoints there, before
 * this chain's or instead of them, mean the database's chain id was changed, most likely to set the
 * log aside after rewriting the history, unless the operator said the log is shared by several
 * databases.
 */

/** How the README and `audit verify` tell someone what to do about a log holding another database's chain. */
export const SHARED_LOG_HINT =
  'if this really is another database, give it a checkpoint log of its own (--checkpoint-log, or move the old log aside), or say the log is shared by several databases (the hub\'s --checkpoint-log-shared; audit verify --shared-checkpoints)';

const who = (checkpoint: Checkpoint): string => `signed by ${checkpoint.hubId} at ${checkpoint.at}`;

/**
 * Why a log that is not shared speaks against this chain, or null: it holds checkpoints, none of them
 * for this chain; or another chain's come before this chain's, so this chain took that one's place.
 * Signatures are checked by the caller.
 */
export function unsharedLogProblem(chainId: string | null, source: string, checkpoints: readonly Checkpoint[]): string | null {
  if (checkpoints.length === 0) return null;
  const lastHere = checkpoints.findLastIndex((checkpoint) => checkpoint.chainId === chainId);
  if (lastHere === -1) {
    const last = checkpoints.at(-1)!;
    return `none of the ${checkpoints.length} checkpoints from ${source} is for this database (chain ${chainId ?? 'unknown'}; the log's last is for chain ${last.chainId}, event ${last.seq}, ${who(last)}): a log of another database, or this database's chain id was changed; ${SHARED_LOG_HINT}`;
  }
  const replaced = checkpoints.slice(0, lastHere).findLast((checkpoint) => checkpoint.chainId !== chainId);
  if (!replaced) return null;
  return `${source} holds checkpoints of chain ${replaced.chainId} (the last for event ${replaced.seq}, ${who(replaced)}) and after them checkpoints of this database's chain ${chainId ?? 'unknown'}: the chain id was changed and the history signed again from there; ${SHARED_LOG_HINT}`;
}

/**
 * The chain a hub's own log says it signed last: the chain of the last checkpoint in it that one of
 * the hub's keys signed (a line someone added without the key says nothing). Null for an empty log.
 */
export function lastSignedCheckpoint(checkpoints: readonly Checkpoint[], keys: readonly TrustedCheckpointKey[]): Checkpoint | null {
  return checkpoints.findLast((checkpoint) => checkpointSignatureValid(keys, checkpoint)) ?? null;
}
