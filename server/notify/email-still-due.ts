import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { requestStore } from '../store/requests.js';
import { userStore } from '../store/users.js';
import { decisionStore } from '../store/decisions.js';
import { isEligibleApprover } from '../domain/request-view.js';
import { activeDelegatorsOf, standInsOn } from '../domain/deciders.js';
import type { EmailPayload } from './email-payload.js';
import { requestFinished, reviewAlreadyIn } from './no-longer-due.js';

/**
 * Why a stored email should no longer go out, or null when it should. A row may wait hours for the
 * SMTP server, or be retried by an admin days later: by then a request asking for a decision may be
 * decided, its recipient disabled, moved to another address or out of the approvers, or their vote
 * already in. A break-glass alert tells of a request approved from the start, so only its recipient
 * is checked, and for an overdue review, that nobody reviewed it since.
 */
export async function whyNoLongerDue(db: Kysely<Database>, payload: EmailPayload, now: Date): Promise<string | null> {
  const after = 'before this email could go out';
  const user = await userStore.byName(db, payload.to.name);
  if (!user) return `not sent: there is no user ${payload.to.name} any more`;
  if (user.disabled) return `not sent: ${user.name} was disabled ${after}`;
  if (user.email?.toLowerCase() !== payload.to.address.toLowerCase()) return `not sent: ${user.name}'s email address changed ${after}`;
  if (payload.type === 'request.break_glass_overdue') {
    // Chasing a review that is in by now would send the reviewers after nothing.
    const reviewed = await reviewAlreadyIn(db, payload.request.id);
    if (reviewed) return `not sent: ${reviewed} ${after}`;
  }
  if (payload.alert !== null) return null;
  const request = await requestStore.byId(db, payload.request.id);
  if (!request) return 'not sent: the request no longer exists';
  const finished = requestFinished(request.status);
  if (finished) return `not sent: ${finished} ${after}`;
  // Its time is up though the hub has not marked it yet: its links would open an "expired" page.
  if (request.expires_at && Date.parse(request.expires_at) <= now.getTime()) return `not sent: the request expired ${after}`;
  // Asked to decide: only while they still may (their groups, roles or delegation changed since?) and have not voted.
  if (await decisionStore.castBy(db, request.id, user.id)) return `not sent: ${user.name} voted ${after}`;
  const person = { id: user.id, name: user.name, roles: user.roles, groups: (await userStore.groupsOfUsers(db, [user.id])).get(user.id) ?? [] };
  if (isEligibleApprover(request, person)) return null;
  // As a delegate: for someone whose vote is not in yet.
  for (const delegator of standInsOn(await activeDelegatorsOf(db, person, now), request)) {
    if (!(await decisionStore.ofApprover(db, request.id, delegator.id))) return null;
  }
  return `not sent: ${user.name} could no longer decide this request ${after}`;
}
