import type { DecisionsTable, GrantsTable, RequestsTable } from '../../store/schema.js';
import { firstEnd, type LoggedEnd, type LoggedGrant, type LoggedRequest } from './replay.js';

/**
 * Why a state row and the audit log disagree, one stable code per kind:
 * - `state_disagrees`: the row says something its events don't (a status, a time, a name, a vote);
 * - `no_event`: a row no event created (a request never submitted, a grant never issued, a vote never cast, a user never created);
 * - `state_missing`: an event's request, grant, delegation or user has no row;
 * - `redeemed_twice`: the log records more than one redemption of one grant;
 * - `ended_twice`: the log records a grant redeemed after it had been revoked or had expired.
 * A revoke or expire logged after a grant's end is no finding but a note (`endedAgainNotes`): hubs
 * before 2026-12-03 logged those when two ends raced on PostgreSQL.
 */
/** The tables the state pass holds against the log. */
export const STATE_TABLES = ['requests', 'grants', 'decisions', 'delegations', 'users'] as const;
export const STATE_FINDING_REASONS = ['state_disagrees', 'no_event', 'state_missing', 'redeemed_twice', 'ended_twice'] as const;
type StateFindingReason = (typeof STATE_FINDING_REASONS)[number];

export interface StateFinding {
  reason: StateFindingReason;
  table: (typeof STATE_TABLES)[number];
  requestId: string | null;
  jti?: string;
  approver?: string;
  delegation?: string;
  /** A user's name, and the id of their row (absent when there is none). */
  user?: string;
  userId?: string;
  /** The column that disagrees, and what the row and the log each say. */
  field?: string;
  state?: string | null;
  log?: string | null;
  problem: string;
}

export type RequestRow = Pick<RequestsTable, 'id' | 'status' | 'decided_by' | 'decided_for'>;
export type DecisionRow = Pick<DecisionsTable, 'request_id' | 'approver_name' | 'decision' | 'delegate_name'>;
export type GrantRow = Pick<GrantsTable, 'jti' | 'request_id' | 'status' | 'not_before' | 'expires_at' | 'redeemed_at' | 'revoked_at' | 'revoked_by' | 'payload_hash'>;

/**
 * A redemption's or revocation's time in the row and in its event come from two readings of the clock
 * in one transaction (a lock wait may come between): closer than this they agree.
 */
const SAME_MOMENT_MS = 60_000;

export const sameMoment = (a: string | null, b: string | null): boolean => a === b || (a !== null && b !== null && Math.abs(Date.parse(a) - Date.parse(b)) <= SAME_MOMENT_MS);
export const shown = (value: string | null) => (value === null ? 'nothing' : `"${value}"`);

/** A request row, with its votes, against its events. */
export function compareRequest(row: RequestRow, votes: readonly DecisionRow[], logged: LoggedRequest | undefined): StateFinding[] {
  if (!logged) {
    return [{ reason: 'no_event', table: 'requests', requestId: row.id, problem: `request ${row.id} (${row.status}) has no request.submitted event: it was written into the database by hand` }];
  }
  const findings: StateFinding[] = [];
  const differs = (field: string, state: string | null, log: string | null) =>
    findings.push({ reason: 'state_disagrees', table: 'requests', requestId: row.id, field, state, log, problem: `request ${row.id}: ${field} is ${shown(state)} but its audit events say ${shown(log)}` });
  if (row.status !== logged.status) differs('status', row.status, logged.status);
  else if (logged.status !== 'pending') {
    const decidedBy = logged.byPolicy ? (row.decided_by?.startsWith('policy:') ? row.decided_by : 'policy:<rule>') : logged.decidedBy;
    if (row.decided_by !== decidedBy) differs('decided_by', row.decided_by, decidedBy);
    if ((row.decided_for ?? null) !== logged.decidedFor) differs('decided_for', row.decided_for ?? null, logged.decidedFor);
  }
  const seen = new Set<string>();
  for (const vote of votes) {
    seen.add(vote.approver_name);
    const cast = logged.votes?.find((cast) => cast.approver === vote.approver_name);
    const who = `${vote.approver_name}${vote.delegate_name ? ` (cast by ${vote.delegate_name})` : ''}`;
    if (!cast) {
      findings.push({ reason: 'no_event', table: 'decisions', requestId: row.id, approver: vote.approver_name, problem: `request ${row.id}: the vote of ${who} to ${vote.decision} has no event that cast it` });
    } else if (cast.decision !== vote.decision || cast.delegate !== (vote.delegate_name ?? null)) {
      const state = `${vote.decision}${vote.delegate_name ? ` by ${vote.delegate_name}` : ''}`;
      const log = `${cast.decision}${cast.delegate ? ` by ${cast.delegate}` : ''}`;
      findings.push({ reason: 'state_disagrees', table: 'decisions', requestId: row.id, approver: vote.approver_name, field: 'decision', state, log, problem: `request ${row.id}: ${vote.approver_name}'s vote is ${state} but its audit events say ${log}` });
    }
  }
  for (const cast of logged.votes ?? []) {
    const approver = cast.approver;
    if (seen.has(approver)) continue;
    findings.push({ reason: 'state_disagrees', table: 'decisions', requestId: row.id, approver, field: 'decision', state: null, log: cast.decision, problem: `request ${row.id}: the audit events record ${approver}'s vote to ${cast.decision}, but the request has no such vote` });
  }
  return findings;
}

/** A grant row against its events. */
export function compareGrant(row: GrantRow, logged: LoggedGrant | undefined): StateFinding[] {
  const base = { table: 'grants' as const, requestId: row.request_id, jti: row.jti };
  if (!logged) return [{ ...base, reason: 'no_event', problem: `grant ${row.jti} (${row.status}, request ${row.request_id}) has no grant.issued event: it was written into the database by hand` }];
  const findings: StateFinding[] = [];
  const differs = (field: string, state: string | null, log: string | null) =>
    findings.push({ ...base, reason: 'state_disagrees', field, state, log, problem: `grant ${row.jti}: ${field} is ${shown(state)} but its audit events say ${shown(log)}` });
  if (row.request_id !== logged.requestId) differs('request_id', row.request_id, logged.requestId);
  if (row.status !== logged.status) differs('status', row.status, logged.status);
  if (logged.expiresAt !== null && row.expires_at !== logged.expiresAt) differs('expires_at', row.expires_at, logged.expiresAt);
  if (logged.notBefore !== null && row.not_before !== logged.notBefore) differs('not_before', row.not_before, logged.notBefore);
  if (logged.payloadHash !== null && row.payload_hash !== logged.payloadHash) differs('payload_hash', row.payload_hash, logged.payloadHash);
  const redeemedAt = logged.status === 'redeemed' ? logged.endedAt : null;
  const revokedAt = logged.status === 'revoked' ? logged.endedAt : null;
  if (!sameMoment(row.redeemed_at, redeemedAt)) differs('redeemed_at', row.redeemed_at, redeemedAt);
  if (!sameMoment(row.revoked_at, revokedAt)) differs('revoked_at', row.revoked_at, revokedAt);
  if ((row.revoked_by ?? null) !== logged.revokedBy) differs('revoked_by', row.revoked_by ?? null, logged.revokedBy);
  findings.push(...endsInLog(row.jti, row.request_id, logged));
  return findings;
}

const listed = (end: LoggedEnd) => `${end.end} at ${end.at} (event ${end.seq})`;

/**
 * A grant the log records used after it had ended: the redeem's update needs an active grant, so no
 * hub logs that unless the row was set back to active in between.
 */
export function endsInLog(jti: string, requestId: string | null, logged: LoggedGrant): StateFinding[] {
  const first = firstEnd(logged);
  if (!first || !logged.laterEnds?.some((end) => end.end === 'redeemed')) return [];
  const ends = [first, ...logged.laterEnds];
  const reason = ends.filter((end) => end.end === 'redeemed').length > 1 ? 'redeemed_twice' : 'ended_twice';
  return [{ reason, table: 'grants', requestId, jti, problem: `grant ${jti}: the audit log records it ${ends.map(listed).join(', then ')}: it was used again after it had ended, so its row was changed in between` }];
}

/** At most this many grants ended again are named in notes; one more note counts the rest. */
const MAX_NOTED_ENDS = 20;

/** Revokes and expiries logged after a grant's end by hubs before the end race was fixed: said, not held against the row. */
export function endedAgainNotes(grants: ReadonlyMap<string, LoggedGrant>): string[] {
  const notes: string[] = [];
  let more = 0;
  for (const [jti, logged] of grants) {
    const first = firstEnd(logged);
    const again = logged.laterEnds?.filter((end) => end.end !== 'redeemed') ?? [];
    if (!first || again.length === 0) continue;
    if (notes.length === MAX_NOTED_ENDS) {
      more += 1;
      continue;
    }
    notes.push(`grant ${jti}'s end was logged again by a hub from before 2026-12-03, which could audit a revoke or expiry that lost a race (${again.map(listed).join(', then ')}); its first end, ${listed(first)}, stands`);
  }
  if (more > 0) notes.push(`${more} more grants' ends were logged again the same way`);
  return notes;
}
