import type { GreenlightRequest } from './request.js';
import { isEligible } from './urgency.js';

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
 * else does not take it off my list: a claim never stops anyone else from deciding.
 */
export function waitsOnMe(request: GreenlightRequest, me: Viewer): boolean {
  return isEligible(request, me) && !request.decisions.some((decision) => decision.approver === me.name);
}
