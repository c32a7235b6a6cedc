import { RISK_ORDER, type GreenlightRequest } from './request.js';
import { decidesAnything } from './user.js';

export interface NextDeadline {
  kind: 'escalation' | 'expiry';
  at: string;
  /** Who claimed the request, when their claim holds the escalation past its own time. */
  heldBy?: string;
}

/** The next moment something happens to a pending request without anyone acting. A claim holds escalation until it lapses. */
export function nextDeadline(request: GreenlightRequest): NextDeadline | null {
  const candidates: NextDeadline[] = [];
  if (request.nextEscalationAt) {
    const claim = request.claim;
    candidates.push(claim && claim.until > request.nextEscalationAt ? { kind: 'escalation', at: claim.until, heldBy: claim.by } : { kind: 'escalation', at: request.nextEscalationAt });
  }
  if (request.expiresAt) candidates.push({ kind: 'expiry', at: request.expiresAt });
  candidates.sort((a, b) => a.at.localeCompare(b.at));
  return candidates[0] ?? null;
}

/** "escalates in 4m (held by bob's claim)": `when` is the caller's own rendering of the time left. */
export function describeDeadline(deadline: NextDeadline, when: string): string {
  const verb = deadline.kind === 'escalation' ? 'escalates' : 'expires';
  return `${verb} ${when}${deadline.heldBy ? ` (held by ${deadline.heldBy}’s claim)` : ''}`;
}

/** Most urgent first: higher risk, then the sooner deadline, then the older request. */
export function compareUrgency(a: GreenlightRequest, b: GreenlightRequest): number {
  const risk = RISK_ORDER[b.risk] - RISK_ORDER[a.risk];
  if (risk !== 0) return risk;
  const da = nextDeadline(a)?.at ?? '9999';
  const db = nextDeadline(b)?.at ?? '9999';
  if (da !== db) return da.localeCompare(db);
  return a.createdAt.localeCompare(b.createdAt);
}

/** Whether a user (by name and groups) may decide this request right now. */
export function isEligible(request: GreenlightRequest, user: { name: string; groups: string[]; roles: string[] }): boolean {
  if (request.status !== 'pending') return false;
  if (!decidesAnything(user.roles)) return false;
  if (request.requester === user.name && !request.rule.allowSelfApproval) return false;
  if (request.eligibleUsers.includes(user.name)) return true;
  return user.groups.some((group) => request.eligibleGroups.includes(group));
}
