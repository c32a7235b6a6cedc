import { RISK_ORDER, type GreenlightRequest } from './request.js';

/** The next moment something happens to a pending request without anyone acting. */
export function nextDeadline(request: GreenlightRequest): { kind: 'escalation' | 'expiry'; at: string } | null {
  const candidates: { kind: 'escalation' | 'expiry'; at: string }[] = [];
  if (request.nextEscalationAt) candidates.push({ kind: 'escalation', at: request.nextEscalationAt });
  if (request.expiresAt) candidates.push({ kind: 'expiry', at: request.expiresAt });
  candidates.sort((a, b) => a.at.localeCompare(b.at));
  return candidates[0] ?? null;
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
  if (!user.roles.some((role) => role !== 'requester')) return false;
  if (request.requester === user.name && !request.rule.allowSelfApproval) return false;
  if (request.eligibleUsers.includes(user.name)) return true;
  return user.groups.some((group) => request.eligibleGroups.includes(group));
}
