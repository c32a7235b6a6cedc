import type { GreenlightRequest } from './request.js';
import { isEligible } from './urgency.js';
import { linesFor, voteAdvances } from './quorum.js';

/** Who is asking: enough of a user to say whether a request waits on them. */
export interface Viewer {
  name: string;
  groups: string[];
  roles: string[];
}

/**
 * The one rule for "this request waits on me", used by the hub's sync, the tray, desktop
 * notifications and the inbox alike: it is pending, I may decide it now (my own request only
 * where the rule lets requesters approve), and I have not voted on it yet. A claim by someone
 * else does not take it off my list: a claim never stops anyone else from deciding. Under per-group
 * quorum (`require:` lines) it waits on me only while a line I count toward still needs someone.
 */
export function waitsOnMe(request: GreenlightRequest, me: Viewer): boolean {
  if (!isEligible(request, me) || request.decisions.some((decision) => decision.approver === me.name)) return false;
  const lines = request.rule.require;
  if (!lines) return true;
  const votes = request.decisions.filter((d) => d.decision === 'approve').map((d) => ({ approver: d.approver, lines: d.lines ?? [] }));
  return voteAdvances(lines, votes, { approver: me.name, lines: linesFor(lines, request, me) });
}
