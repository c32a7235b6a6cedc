import type { GreenlightRequest } from './request.js';
import { isEligible } from './urgency.js';
import { decidesAnything } from './user.js';
import { linesFor, voteAdvances } from './quorum.js';
import type { ActingFor } from './delegation.js';

/** Who is asking: enough of a user to say whether a request waits on them. */
export interface Viewer {
  name: string;
  groups: string[];
  roles: string[];
  /** Delegators whose approvals I may give now (from the hub's sync). */
  actingFor?: ActingFor[];
}

/**
 * The one rule for "this request waits on me", used by the hub's sync, the tray, desktop
 * notifications and the inbox alike: it is pending, I may decide it now (my own request only
 * where the rule lets requesters approve), and I have not voted on it yet. A claim by someone
 * else does not take it off my list: a claim never stops anyone else from deciding. Under per-group
 * quorum (`require:` lines) it waits on me only while a line I count toward still needs someone.
 * A delegate in their window is waited on for their delegator's requests as the delegator would be.
 * A break-glass use waits, until it is reviewed (overdue included), on the members of its reviewer
 * groups who hold a role that decides, never on the user who broke glass; and on a delegate of such
 * a member whose delegation covers its rule (unless the delegate or that member broke the glass).
 */
export function waitsOnMe(request: GreenlightRequest, me: Viewer): boolean {
  if (request.breakGlass) return awaitsMyReview(request, me);
  return decidesFor(request, me).length > 0;
}

/**
 * Whom I may decide this request for now: my own name first when it waits on my own vote, then each
 * delegator whose vote I may cast on it (the hub checks again when the decision is sent). Empty for
 * a break-glass use (reviewed, not decided: see reviewsFor) and for anything that does not wait on me.
 */
export function decidesFor(request: GreenlightRequest, me: Viewer): string[] {
  if (request.breakGlass) return [];
  const mine = waitsOnVoter(request, me) ? [me.name] : [];
  // As a delegate: never my own request or my delegator's, and one vote per person (mine, or one cast for someone).
  if (!me.actingFor?.length || request.requester === me.name || request.decisions.some((d) => d.approver === me.name || d.by === me.name)) return mine;
  const delegators = me.actingFor.filter(
    (delegator) => request.requester !== delegator.name && (!delegator.rules || delegator.rules.includes(request.rule.name)) && waitsOnVoter(request, delegator),
  );
  return [...mine, ...delegators.map((delegator) => delegator.name)];
}

function waitsOnVoter(request: GreenlightRequest, me: Viewer): boolean {
  if (!isEligible(request, me) || request.decisions.some((decision) => decision.approver === me.name || decision.by === me.name)) return false;
  const lines = request.rule.require;
  if (!lines) return true;
  const votes = request.decisions.filter((d) => d.decision === 'approve').map((d) => ({ approver: d.approver, lines: d.lines ?? [] }));
  return voteAdvances(lines, votes, { approver: me.name, lines: linesFor(lines, request, me) });
}

function awaitsMyReview(request: GreenlightRequest, me: Viewer): boolean {
  const glass = request.breakGlass;
  if (!glass || (glass.review !== 'open' && glass.review !== 'overdue')) return false;
  return reviewsFor(request, me).length > 0;
}

/** Whether `person`, as given, reviews a break-glass use reviewed by `reviewers`: a role that decides, in one of those groups. The hub checks by this too. */
export const isBreakGlassReviewer = (reviewers: readonly string[], person: Pick<Viewer, 'groups' | 'roles'>): boolean =>
  decidesAnything(person.roles) && person.groups.some((group) => reviewers.includes(group));

const reviewsAsMember = (request: GreenlightRequest, person: Pick<Viewer, 'name' | 'groups' | 'roles'>): boolean =>
  request.requester !== person.name && isBreakGlassReviewer(request.breakGlass?.reviewers ?? [], person);

/**
 * Whom I may review this break-glass use for now, whatever its review's state: my own name first when
 * I am one of its reviewers, then each delegator I stand in for who is one (the hub checks again when
 * the review is sent). Empty for anything else, and for a use I made myself.
 */
export function reviewsFor(request: GreenlightRequest, me: Viewer): string[] {
  if (!request.breakGlass || request.requester === me.name || !decidesAnything(me.roles)) return [];
  const delegators = (me.actingFor ?? []).filter((delegator) => (!delegator.rules || delegator.rules.includes(request.rule.name)) && reviewsAsMember(request, delegator));
  return [...(reviewsAsMember(request, me) ? [me.name] : []), ...delegators.map((delegator) => delegator.name)];
}
