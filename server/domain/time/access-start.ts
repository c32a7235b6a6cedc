import { formatDuration, type AccessWindow } from '../../../protocol/index.js';
import { cutToWindow, nextWindowStart, type Interval } from './windows.js';

export const DEFAULT_MAX_SCHEDULE_AHEAD_SECONDS = 14 * 86_400;

export interface AccessTerms {
  /** When the decision was made. */
  approvedAt: number;
  /** When the requester (or the approver, later) asked access to start; null for "now". */
  notBefore: number | null;
  requestedTtlSeconds: number | null;
  /** The rule's grantTtl: a cap on the length, and the length when none was asked for. */
  grantTtlSeconds: number;
}

/** Access starts at the later of the approval and the asked-for start, never at submission; it lasts the asked-for TTL, at most the rule's. */
export function accessInterval(terms: AccessTerms): Interval {
  const start = Math.max(terms.approvedAt, terms.notBefore ?? terms.approvedAt);
  const seconds = Math.min(terms.requestedTtlSeconds ?? terms.grantTtlSeconds, terms.grantTtlSeconds);
  return { start, end: start + seconds * 1000 };
}

export type GrantTimes = { ok: true; interval: Interval } | { ok: false; nextStart: number | null };

/** Access for these terms, cut to the rule's windows; refused (with the next window start) when it touches none. */
export function grantTimes(terms: AccessTerms, windows: readonly AccessWindow[]): GrantTimes {
  const wanted = accessInterval(terms);
  const cut = cutToWindow(windows, wanted);
  return cut ? { ok: true, interval: cut } : { ok: false, nextStart: nextWindowStart(windows, wanted.start) };
}

/** Why a requested start cannot be taken, or null: it must lie ahead, and no further than the rule allows. */
export function startProblem(notBefore: number, now: number, maxAheadSeconds: number): string | null {
  if (notBefore <= now) return `must be in the future (it is ${new Date(notBefore).toISOString()}, now is ${new Date(now).toISOString()})`;
  if (notBefore > now + maxAheadSeconds * 1000) {
    return `must be at most ${formatDuration(maxAheadSeconds)} ahead (the rule's maxScheduleAhead); latest is ${new Date(now + maxAheadSeconds * 1000).toISOString()}`;
  }
  return null;
}
