import { decidesAnything, GreenlightError } from '../../protocol/index.js';
import { whoDecidedRecord, type RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';
import { mayDecide, standInsOn, type Delegator } from './deciders.js';
import { canSee, isEligibleApprover } from './request-view.js';

/**
 * Why a vote is refused, in the words decideRequest uses: built here once, for the reading a vote is
 * let in by (vote-admission), which a channel asking for more before deciding (Slack's deny form) asks too.
 */

/** Why a request no longer pending takes no decision, naming who decided it ("approved by dana for sue"). */
export function nothingToDecide(row: Pick<RequestRecord, 'status' | 'decided_by' | 'decided_for'>): string {
  const who = whoDecidedRecord(row);
  return `This request is already ${row.status}${who ? ` by ${who}` : ''}; nothing to decide.`;
}

/** Only someone who may see the request anyway (its requester, an admin) is told whom it needs. */
const notEligible = (current: RequestRecord) =>
  new GreenlightError('NOT_ELIGIBLE', `You are not an approver for this request; it needs ${[...current.eligible_groups, ...current.eligible_users].join(', ') || 'nobody yet'}.`);

/** Refused before the request is read: the vote names someone (`named`) the caller cannot decide for now. */
export function refusedForNamed(actor: Actor, delegators: Delegator[], named: string | undefined): GreenlightError | null {
  if (named === undefined || named === actor.name) return null;
  if (!decidesAnything(actor.roles)) {
    return new GreenlightError('NOT_ELIGIBLE', `You are a requester only and decide nothing, not for ${named} either; an admin can make you an approver.`);
  }
  if (!delegators.some((d) => d.delegator.name === named)) {
    return new GreenlightError('NOT_ELIGIBLE', `You are not ${named}'s delegate now; a delegation covers only its window and its rules.`);
  }
  return null;
}

/** Refused before anything of the request is told: someone with no part in it hears only that, not how, when or by whom it was decided. */
export function refusedAsOutsider(current: RequestRecord, actor: Actor, delegators: Delegator[], named: string | undefined): GreenlightError | null {
  if (current.requester_id === actor.id || mayDecide(current, actor, delegators, named)) return null;
  return canSee(current, actor) ? notEligible(current) : new GreenlightError('NOT_ELIGIBLE', 'You are not an approver for this request; nothing was decided.');
}

/**
 * Whose vote `caller` casts on `current`: their own (`ownVote`), or, unnamed, the earliest delegation
 * that could vote (as the CLI without --for, a plain email link and a Slack click that needed no
 * choice do); `standIn` null when they vote for nobody else.
 */
export function voterOn(current: RequestRecord, caller: Actor, delegators: Delegator[], named: string | undefined): { ownVote: boolean; standIn: Actor | null } {
  const asSelf = named === undefined || named === caller.name;
  const own = current.requester_id === caller.id;
  const ownVote = asSelf && isEligibleApprover(current, caller) && (!own || current.rule.allowSelfApproval);
  const standIn = ownVote || !decidesAnything(caller.roles) ? null : (standInsOn(delegators, current, named)[0] ?? null);
  return { ownVote, standIn };
}

/** Refused once it is known whose vote it is (voterOn): a vote on one's own request, or one that counts for nobody. */
export function refusedVote(current: RequestRecord, caller: Actor, { ownVote, standIn }: { ownVote: boolean; standIn: Actor | null }): GreenlightError | null {
  if (current.requester_id === caller.id && (standIn || !current.rule.allowSelfApproval)) {
    return new GreenlightError('SELF_APPROVAL', standIn ? 'A delegate never decides their own request; another approver has to.' : 'You cannot decide your own request; another approver has to.');
  }
  // A requester the rule lets approve still has to be one of its approvers (others were refused as outsiders).
  if (!ownVote && !standIn) return notEligible(current);
  if (standIn && current.requester_id === standIn.id) {
    return new GreenlightError('SELF_APPROVAL', `${standIn.name} asked for this, so their delegate cannot decide it; another approver has to.`);
  }
  return null;
}
