import type { AuditEventsTable } from '../../store/schema.js';

/** A vote as the log records it: whose it counts as, the verdict, and the delegate who cast it. */
export interface LoggedVote {
  decision: 'approve' | 'deny';
  delegate: string | null;
}

/** What a request's events say it is now. */
export interface LoggedRequest {
  status: string;
  /** Who the final event names (actor), and the approver a delegate decided for. */
  decidedBy: string | null;
  decidedFor: string | null;
  /** Approved by the policy itself: the row names the rule (`policy:<rule>`), the event the hub. */
  byPolicy: boolean;
  votes: Map<string, LoggedVote>;
}

export type GrantEnd = 'redeemed' | 'revoked' | 'expired';

export interface LoggedEnd {
  end: GrantEnd;
  at: string;
  seq: number;
}

/** What a grant's events say it is now. */
export interface LoggedGrant {
  requestId: string | null;
  expiresAt: string | null;
  /** Absent from events written before scheduled starts existed. */
  notBefore: string | null;
  /** Its first end decides these: a later one never changed the row (the hub's updates need an active grant). */
  status: 'active' | GrantEnd;
  redeemedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  ended: LoggedEnd | null;
  /**
   * Ends logged after the first, in order. A revoke or expire here is what hubs before 2026-12-03
   * (7112570) logged when they lost a race on PostgreSQL (their revoke audited whatever its update
   * did); a redeem here no hub ever logged, so the row was set back to active in between.
   */
  laterEnds: LoggedEnd[] | null;
}

const FINAL: Record<string, string> = {
  'request.approved': 'approved',
  'request.denied': 'denied',
  'request.cancelled': 'cancelled',
  'request.expired': 'expired',
};
const GRANT_ENDS: Record<string, GrantEnd> = { 'grant.redeemed': 'redeemed', 'grant.revoked': 'revoked', 'grant.expired': 'expired' };

function parseData(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/**
 * The requests and grants as their audit events, replayed in order, leave them. Only the events that
 * change what the state tables hold are read; the rest (escalations, reminders, claims) are skipped.
 */
export class StateReplay {
  readonly requests = new Map<string, LoggedRequest>();
  readonly grants = new Map<string, LoggedGrant>();
  /** Grants with ends logged after their first, in the order found. */
  readonly endedAgain = new Set<string>();

  /** Events must come in seq order: each one applies to what the earlier ones left. */
  apply(row: Pick<AuditEventsTable, 'seq' | 'at' | 'actor' | 'type' | 'request_id' | 'data'>): void {
    if (row.type.startsWith('grant.')) return this.applyGrant(row);
    if (!row.request_id || !row.type.startsWith('request.')) return;
    if (row.type === 'request.submitted') {
      this.requests.set(row.request_id, { status: 'pending', decidedBy: null, decidedFor: null, byPolicy: false, votes: new Map() });
      return;
    }
    const request = this.requests.get(row.request_id);
    if (!request) return;
    const final = FINAL[row.type];
    const isVote = row.type === 'request.vote' || row.type === 'request.denied' || row.type === 'request.approved';
    if (!final && !isVote && row.type !== 'request.vote_withdrawn') return;
    const data = parseData(row.data);
    if (row.type === 'request.vote_withdrawn') {
      for (const name of Array.isArray(data.approvals) ? data.approvals : []) if (typeof name === 'string') request.votes.delete(name);
      return;
    }
    // Break-glass and `autoApprove` approve without anyone's vote.
    const unvoted = data.breakGlass === true || data.autoApprove === true;
    const onBehalfOf = text(data.onBehalfOf);
    if (isVote && !unvoted) {
      request.votes.set(onBehalfOf ?? row.actor, { decision: row.type === 'request.denied' ? 'deny' : 'approve', delegate: onBehalfOf ? row.actor : null });
    }
    if (final) {
      request.status = final;
      request.decidedBy = row.actor;
      request.decidedFor = isVote && !unvoted ? onBehalfOf : null;
      request.byPolicy = data.autoApprove === true;
    }
  }

  private applyGrant(row: Pick<AuditEventsTable, 'seq' | 'at' | 'actor' | 'type' | 'request_id' | 'data'>): void {
    const end = GRANT_ENDS[row.type];
    if (row.type !== 'grant.issued' && !end) return;
    const data = parseData(row.data);
    const jti = text(data.jti);
    if (!jti) return;
    if (row.type === 'grant.issued') {
      this.grants.set(jti, {
        requestId: row.request_id,
        expiresAt: text(data.expiresAt),
        notBefore: text(data.notBefore),
        status: 'active',
        redeemedAt: null,
        revokedAt: null,
        revokedBy: null,
        ended: null,
        laterEnds: null,
      });
      return;
    }
    const grant = this.grants.get(jti);
    if (!grant || !end) return;
    const logged = { end, at: row.at, seq: Number(row.seq) };
    if (grant.ended) {
      (grant.laterEnds ??= []).push(logged);
      this.endedAgain.add(jti);
      return;
    }
    grant.ended = logged;
    grant.status = end;
    if (end === 'redeemed') grant.redeemedAt = row.at;
    if (end === 'revoked') {
      grant.revokedAt = row.at;
      grant.revokedBy = row.actor;
    }
  }
}
