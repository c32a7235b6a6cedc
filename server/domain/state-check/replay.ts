import type { AuditEventsTable } from '../../store/schema.js';
import type { GRANT_END_EVENTS } from '../../store/grants.js';
import { parseEventData, recordedText } from './event-data.js';

/** A vote as the log records it: whose it counts as, the verdict, and the delegate who cast it. */
interface LoggedVote {
  approver: string;
  decision: 'approve' | 'deny';
  delegate: string | null;
}

/**
 * What a request's `request.submitted` event recorded of what was asked: null where an older hub's
 * event holds no such field (then there is nothing to hold the row against).
 */
export interface LoggedSubmission {
  requester: string;
  action: string | null;
  resource: string | null;
  environment: string | null;
  reason: string | null;
  risk: string | null;
  rule: string | null;
  /** Every submission of an extension has said which grant it extends: absent means none. */
  extends: string | null;
}

/**
 * What a request's events say it is now. A replay holds one for each request of a page (check-state
 * replays a page at a time), each kept small: names shared, votes a short array, nothing else.
 */
export interface LoggedRequest {
  /** The same string as its key in `requests`, shared by its grants. */
  id: string;
  status: string;
  /** Who the final event names (actor), and the approver a delegate decided for. */
  decidedBy: string | null;
  decidedFor: string | null;
  /** Approved by the policy itself: the row names the rule (`policy:<rule>`), the event the hub. */
  byPolicy: boolean;
  /** At most one per approver; null before the first. */
  votes: readonly LoggedVote[] | null;
  submitted: LoggedSubmission;
}

type GrantEnd = 'redeemed' | 'revoked' | 'expired';

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
  /** The hash of the action, resource, environment and context it was issued for; absent from events of hubs before it was recorded there. */
  payloadHash: string | null;
  /** Its first end decides these: a later one never changed the row (the hub's updates need an active grant). */
  status: 'active' | GrantEnd;
  /** When and in which event it first ended (`status` says how); null and 0 while active. */
  endedAt: string | null;
  endedSeq: number;
  revokedBy: string | null;
  /**
   * Ends logged after the first, in order. A revoke or expire here is what hubs before 2026-12-03
   * (7112570) logged when they lost a race on PostgreSQL (their revoke audited whatever its update
   * did); a redeem here no hub ever logged, so the row was set back to active in between.
   */
  laterEnds: LoggedEnd[] | null;
}

/** A grant's first end, if it has ended. */
export const firstEnd = (grant: LoggedGrant): LoggedEnd | null =>
  grant.status === 'active' || grant.endedAt === null ? null : { end: grant.status, at: grant.endedAt, seq: grant.endedSeq };

const FINAL: Record<string, string> = {
  'request.approved': 'approved',
  'request.denied': 'denied',
  'request.cancelled': 'cancelled',
  'request.expired': 'expired',
};
const GRANT_ENDS: Record<(typeof GRANT_END_EVENTS)[number], GrantEnd> = { 'grant.redeemed': 'redeemed', 'grant.revoked': 'revoked', 'grant.expired': 'expired' };


const text = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);

/** The grant a `grant.issued` event's data names. */
export const issuedJti = (data: string): string | null => text(parseEventData(data).jti);

export type ReplayedEvent = Pick<AuditEventsTable, 'seq' | 'at' | 'actor' | 'type' | 'request_id' | 'action' | 'resource' | 'environment' | 'data'>;

/**
 * The requests and grants as their audit events, replayed in order, leave them. Only the events that
 * change what the state tables hold are read; the rest (escalations, reminders, claims) are skipped.
 */
export class StateReplay {
  readonly requests = new Map<string, LoggedRequest>();
  readonly grants = new Map<string, LoggedGrant>();
  /** Grants with ends logged after their first, in the order found. */
  readonly endedAgain = new Set<string>();
  /** Each person's name once, however many events name them: each row read brings its own copy. */
  private readonly names = new Map<string, string>();

  private name(value: string): string;
  private name(value: string | null): string | null;
  private name(value: string | null): string | null {
    if (value === null) return null;
    const known = this.names.get(value);
    if (known !== undefined) return known;
    this.names.set(value, value);
    return value;
  }

  /** Events must come in seq order: each one applies to what the earlier ones left. */
  apply(row: ReplayedEvent): void {
    if (row.type.startsWith('grant.')) return this.applyGrant(row);
    if (!row.request_id || !row.type.startsWith('request.')) return;
    if (row.type === 'request.submitted') {
      const data = parseEventData(row.data);
      const submitted: LoggedSubmission = {
        requester: this.name(row.actor),
        action: row.action,
        resource: row.resource,
        environment: row.environment,
        reason: recordedText(data.reason),
        risk: recordedText(data.risk),
        rule: recordedText(data.rule),
        extends: recordedText(data.extends),
      };
      this.requests.set(row.request_id, { id: row.request_id, status: 'pending', decidedBy: null, decidedFor: null, byPolicy: false, votes: null, submitted });
      return;
    }
    const request = this.requests.get(row.request_id);
    if (!request) return;
    const final = FINAL[row.type];
    const isVote = row.type === 'request.vote' || row.type === 'request.denied' || row.type === 'request.approved';
    if (!final && !isVote && row.type !== 'request.vote_withdrawn') return;
    const data = parseEventData(row.data);
    if (row.type === 'request.vote_withdrawn') {
      const withdrawn = new Set(Array.isArray(data.approvals) ? data.approvals : []);
      const left = request.votes?.filter((vote) => !withdrawn.has(vote.approver)) ?? [];
      request.votes = left.length > 0 ? left : null;
      return;
    }
    // Break-glass and `autoApprove` approve without anyone's vote.
    const unvoted = data.breakGlass === true || data.autoApprove === true;
    const onBehalfOf = this.name(text(data.onBehalfOf));
    const actor = this.name(row.actor);
    if (isVote && !unvoted) {
      const vote: LoggedVote = { approver: onBehalfOf ?? actor, decision: row.type === 'request.denied' ? 'deny' : 'approve', delegate: onBehalfOf ? actor : null };
      const votes = request.votes ?? [];
      // A second vote of the same approver takes the first one's place.
      request.votes = votes.some((cast) => cast.approver === vote.approver) ? votes.map((cast) => (cast.approver === vote.approver ? vote : cast)) : [...votes, vote];
    }
    if (final) {
      request.status = final;
      request.decidedBy = actor;
      request.decidedFor = isVote && !unvoted ? onBehalfOf : null;
      request.byPolicy = data.autoApprove === true;
    }
  }

  private applyGrant(row: ReplayedEvent): void {
    const end = (GRANT_ENDS as Record<string, GrantEnd | undefined>)[row.type];
    if (row.type !== 'grant.issued' && !end) return;
    const data = parseEventData(row.data);
    const jti = text(data.jti);
    if (!jti) return;
    if (row.type === 'grant.issued') {
      this.grants.set(jti, {
        requestId: (row.request_id && this.requests.get(row.request_id)?.id) ?? row.request_id,
        expiresAt: text(data.expiresAt),
        notBefore: text(data.notBefore),
        payloadHash: text(data.payloadHash),
        status: 'active',
        endedAt: null,
        endedSeq: 0,
        revokedBy: null,
        laterEnds: null,
      });
      return;
    }
    const grant = this.grants.get(jti);
    if (!grant || !end) return;
    if (grant.status !== 'active') {
      (grant.laterEnds ??= []).push({ end, at: row.at, seq: Number(row.seq) });
      this.endedAgain.add(jti);
      return;
    }
    grant.status = end;
    grant.endedAt = row.at;
    grant.endedSeq = Number(row.seq);
    if (end === 'revoked') grant.revokedBy = this.name(row.actor);
  }
}
