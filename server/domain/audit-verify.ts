import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { walkChain } from './audit.js';
import type { CHAIN_TAMPER_KINDS } from './tamper-kinds.js';
import { checkpointSignatureValid, signatureProblem, type Checkpoint, type TrustedCheckpointKey } from './checkpoints.js';
import { unsharedLogProblem } from './checkpoint-chains.js';
import { checkState } from './state-check/check-state.js';
import { endedAgainNotes, type StateFinding } from './state-check/compare.js';

/** A point the chain must pass through: a signed checkpoint from somewhere, or a `--expect SEQ:HASH`. */
export interface Anchor {
  seq: number;
  hash: string;
  /** Where it came from, for messages: "the database", a file, "--expect". */
  source: string;
  /** Signed checkpoints say when and by which hub. */
  checkpoint?: Checkpoint;
  /** The chain it is for, when known: one for another database is not held against this one. */
  chainId?: string;
}

/** `state`: the chain is intact, but requests, votes, grants, delegations or users in the database disagree with it (`findings` says which). */
export type TamperKind = (typeof CHAIN_TAMPER_KINDS)[number] | 'state';

/** At most this many findings are listed; `findingsTotal` counts them all. */
const MAX_LISTED_FINDINGS = 100;

export type AuditVerifyOutcome =
  | {
      ok: true;
      events: number;
      /** The database's chain, so a caller holding checkpoint logs can tell whose checkpoints they are. */
      chainId: string | null;
      /** The latest checkpoint the chain was checked against; events after it are covered by no signature. */
      checkpoint: { seq: number; at: string | null; source: string } | null;
      /** What could not be checked (no public key, say). */
      notes: string[];
    }
  | { ok: false; events: number; brokenAt: number; problem: string; kind: Exclude<TamperKind, 'state'> }
  | { ok: false; events: number; brokenAt: 0; problem: string; kind: 'state'; findings: StateFinding[]; findingsTotal: number };

export interface VerifyInputs {
  /** The checkpoint public keys (the current one and those it replaced); without any no checkpoint can be trusted, and only `--expect` anchors count. */
  publicKeys: readonly TrustedCheckpointKey[];
  /**
   * Checkpoints from outside the database (checkpoint logs, a webhook receiver's copy), in the order
   * they were written. `shared`: the operator said the log holds several databases' checkpoints, so
   * another chain's there are noted; in a log of this database's own, another chain's checkpoints
   * instead of this one's, or before them, mean its chain id was changed.
   */
  outside?: { source: string; checkpoints: Checkpoint[]; shared: boolean }[];
  /** Anchors whose signature someone else checked (`--expect`, or the CLI's file checkpoints sent to a hub). */
  trusted?: Anchor[];
  /** Checkpoints held elsewhere that the database must still have (the CLI checked their signatures). */
  mustExist?: Anchor[];
}

const describe = (anchor: Anchor): string =>
  anchor.checkpoint ? `the checkpoint signed by ${anchor.checkpoint.hubId} at ${anchor.checkpoint.at} (${anchor.source})` : `the hash given by ${anchor.source}`;

/**
 * The chain, checked against the checkpoints: first every signature (a forged checkpoint is named),
 * then the walk of the chain, then each anchor: a chain that ends before one was truncated, a chain
 * whose event differs from one was rewritten, and a checkpoint held outside that the database lacks
 * was deleted. Checkpoints are read before the chain head, so one written meanwhile is never past it.
 * Last, with the chain intact, the requests, votes, grants, delegations and users the hub acts on are held against what
 * the chain's events say of them (`checkState`).
 */
export async function verifyAudit(db: Kysely<Database>, inputs: VerifyInputs): Promise<AuditVerifyOutcome> {
  const chainId = (await db.selectFrom('chain_head').select('chain_id').where('id', '=', 1).executeTakeFirst())?.chain_id ?? null;
  const rows = await db.selectFrom('audit_checkpoints').selectAll().orderBy('seq').execute();
  const stored: Checkpoint[] = rows.map((row) => ({ seq: Number(row.seq), hash: row.hash, at: row.at, hubId: row.hub_id, chainId: row.chain_id, keyId: row.key_id, signature: row.signature }));
  const notes: string[] = [];
  const fail = (kind: Exclude<TamperKind, 'state'>, brokenAt: number, problem: string, events = 0): AuditVerifyOutcome => ({ ok: false, events, brokenAt, problem, kind });
  const foreignProblem = (count: number, source: string) =>
    `none of the ${count} checkpoints from ${source} is for this database (chain ${chainId ?? 'unknown'}): a log of another database, or this database's chain id was changed`;

  const anchors: Anchor[] = [];
  /** Signed for another chain: set aside, unless this chain turns out to pass through one (its id was changed). */
  const foreign: Anchor[] = [];
  /** Checkpoints whose signature could not be checked (no public key): only a disagreement with them counts. */
  const unsigned: Anchor[] = [];
  /** A log of this database's own holding another chain instead of this one, or before it: said after the chain itself, which may say more. */
  let logProblem: string | null = null;
  const given = inputs.trusted ?? [];
  const givenHere = given.filter((anchor) => anchor.chainId === undefined || anchor.chainId === chainId);
  if (given.length > 0 && givenHere.length === 0) return fail('foreign_checkpoints', 0, foreignProblem(given.length, 'the caller'));
  if (givenHere.length < given.length) notes.push(`${given.length - givenHere.length} of the caller's checkpoints are for another database and were not used`);
  anchors.push(...givenHere);

  const sources = [{ source: 'the database', checkpoints: stored, shared: false }, ...(inputs.outside ?? [])];
  if (inputs.publicKeys.length > 0) {
    for (const { source, checkpoints, shared } of sources) {
      for (const checkpoint of checkpoints) {
        if (!checkpointSignatureValid(inputs.publicKeys, checkpoint)) return fail('bad_signature', checkpoint.seq, signatureProblem(inputs.publicKeys, checkpoint, source));
      }
      const here = checkpoints.filter((checkpoint) => checkpoint.chainId === chainId);
      if (source === 'the database' && here.length < checkpoints.length) {
        const moved = checkpoints.find((checkpoint) => checkpoint.chainId !== chainId);
        return fail('rewritten', moved?.seq ?? 0, `the checkpoint for event ${moved?.seq ?? '?'} in the database was signed for chain ${moved?.chainId ?? '?'}, but the database now says it is chain ${chainId ?? 'unknown'}: its chain id was changed`);
      }
      logProblem ??= shared ? null : unsharedLogProblem(chainId, source, checkpoints);
      if (here.length < checkpoints.length) notes.push(`${checkpoints.length - here.length} checkpoints in ${source} are for another database and were not used`);
      for (const checkpoint of here) anchors.push({ seq: checkpoint.seq, hash: checkpoint.hash, source, checkpoint });
      for (const checkpoint of checkpoints) if (checkpoint.chainId !== chainId) foreign.push({ seq: checkpoint.seq, hash: checkpoint.hash, source, checkpoint, chainId: checkpoint.chainId });
    }
  } else if (sources.some(({ checkpoints }) => checkpoints.length > 0)) {
    notes.push('checkpoints were not checked: no checkpoint public key (give --checkpoint-key, or verify through a hub)');
    // Unchecked, they vouch for nothing; but a chain that disagrees with them is still worth saying.
    for (const { source, checkpoints } of sources) {
      for (const checkpoint of checkpoints) if (checkpoint.chainId === chainId) unsigned.push({ seq: checkpoint.seq, hash: checkpoint.hash, source, checkpoint });
    }
  }

  const walk = await walkChain(db, new Set([...anchors, ...foreign, ...unsigned].map((anchor) => anchor.seq)));
  if (!walk.outcome.ok) return { ...walk.outcome, kind: 'chain' };

  // Hashes are unique to a chain's history: another database's checkpoint never names one of ours.
  const ours = foreign.find((anchor) => walk.hashes.get(anchor.seq) === anchor.hash);
  if (ours) {
    return fail(
      'rewritten',
      ours.seq,
      `${describe(ours)} was signed for chain ${ours.chainId ?? '?'} and this chain's event ${ours.seq} is the one it vouches for, but the database now says it is chain ${chainId ?? 'unknown'}: its chain id was changed, and checkpoints of the old id would have been set aside`,
      walk.outcome.events,
    );
  }

  if (logProblem) return fail('foreign_checkpoints', 0, logProblem, walk.outcome.events);

  // The furthest anchor first: a truncation is reported against the checkpoint that proves most.
  for (const anchor of [...anchors].sort((a, b) => b.seq - a.seq)) {
    if (anchor.seq > walk.end) {
      return fail('truncated', walk.end + 1, `the chain ends at event ${walk.end}, but ${describe(anchor)} vouches for ${anchor.seq} events: events ${walk.end + 1} to ${anchor.seq} were removed`, walk.outcome.events);
    }
    if (walk.hashes.get(anchor.seq) !== anchor.hash) {
      return fail('rewritten', anchor.seq, `event ${anchor.seq} does not match ${describe(anchor)}: the chain was rewritten at or before it`, walk.outcome.events);
    }
  }

  const unchecked = ' (its signature was not checked: no checkpoint public key)';
  for (const anchor of [...unsigned].sort((a, b) => b.seq - a.seq)) {
    if (anchor.seq > walk.end) {
      return fail('truncated', walk.end + 1, `the chain ends at event ${walk.end}, but ${describe(anchor)} vouches for ${anchor.seq} events${unchecked}: events ${walk.end + 1} to ${anchor.seq} were removed`, walk.outcome.events);
    }
    if (walk.hashes.get(anchor.seq) !== anchor.hash) {
      return fail('rewritten', anchor.seq, `event ${anchor.seq} does not match ${describe(anchor)}${unchecked}: the chain was rewritten at or before it`, walk.outcome.events);
    }
  }

  const storedSeqs = new Set(stored.map((checkpoint) => checkpoint.seq));
  const held = [...(inputs.mustExist ?? []).filter((anchor) => anchor.chainId === undefined || anchor.chainId === chainId), ...anchors.filter((anchor) => anchor.source !== 'the database' && anchor.checkpoint)];
  for (const anchor of held) {
    if (!storedSeqs.has(anchor.seq)) return fail('checkpoint_deleted', anchor.seq, `${describe(anchor)} is missing from the database: it was deleted`, walk.outcome.events);
  }

  // The furthest checkpoint, and on a tie the copy held outside the database: that one proves more.
  const latest = anchors.reduce<Anchor | null>(
    (best, anchor) => (best === null || anchor.seq > best.seq || (anchor.seq === best.seq && best.source === 'the database') ? anchor : best),
    null,
  );
  // Only a chain found intact is evidence to hold the state tables against.
  const { findings, endedAgain } = await checkState(db, walk.end);
  if (findings.length > 0) {
    const reasons = [...new Set(findings.map((finding) => finding.reason))].join(', ');
    return {
      ok: false,
      events: walk.outcome.events,
      brokenAt: 0,
      kind: 'state',
      problem: `${findings.length} finding${findings.length === 1 ? '' : 's'} (${reasons}): requests, votes, grants, delegations or users in the database say what the intact audit log does not; they were changed without the hub`,
      findings: findings.slice(0, MAX_LISTED_FINDINGS),
      findingsTotal: findings.length,
    };
  }
  return {
    ok: true,
    events: walk.outcome.events,
    chainId,
    checkpoint: latest ? { seq: latest.seq, at: latest.checkpoint?.at ?? null, source: latest.source } : null,
    notes: [...notes, ...endedAgainNotes(endedAgain)],
  };
}
