import type { Transaction } from 'kysely';
import { decidesAnything, GreenlightError, isBreakGlassReviewer } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { BreakGlassReviewRecord } from '../store/break-glass-reviews.js';
import type { RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';
import { coversRule, standsInOn, type Delegator } from './deciders.js';
import { asTheyStandNow } from './still-enabled.js';
import { listOf as inWords } from './approver-reach.js';

const listOf = (items: string[]) => items.join(', ');

/**
 * Refuses, before anything is read, an `onBehalfOf` naming someone the caller does not stand in for
 * now (their own name means themselves). Returns the delegator named, if any.
 */
export function namedDelegator(actor: Actor, delegators: Delegator[], onBehalfOf: string | undefined): string | undefined {
  if (onBehalfOf === undefined || onBehalfOf === actor.name) return undefined;
  if (!decidesAnything(actor.roles)) throw new GreenlightError('NOT_ELIGIBLE', `You are a requester only and review nothing, not for ${onBehalfOf} either; an admin can make you an approver.`);
  if (!delegators.some((d) => d.delegator.name === onBehalfOf)) {
    throw new GreenlightError('NOT_ELIGIBLE', `You are not ${onBehalfOf}'s delegate now, so you cannot review for them; a delegation covers only its window and its rules.`);
  }
  return onBehalfOf;
}

/**
 * Whether the caller may be let near the review at all (what they learn when refused depends on it):
 * one who may see the request, a reviewer, or a delegate of a reviewer or approver of it.
 */
export const mayApproachReview = (current: RequestRecord, actor: Actor, delegators: Delegator[], named: string | undefined): boolean =>
  (named === undefined && isBreakGlassReviewer(current.rule.breakGlass?.reviewers ?? [], actor)) ||
  delegators.some((d) => (named === undefined || d.delegator.name === named) && standsInOn(d, current));

/**
 * Who reviews, read inside the review's transaction: the caller as a reviewer (unless they name
 * someone), else a delegator they stand in for who reviews it as they stand now (in a reviewer group
 * with a role that decides, still active, not the one who broke the glass), under a delegation that
 * covers the rule. Returns the delegator, or null when the caller reviews as themselves; refuses,
 * when no one is named and several delegators could be reviewed for, naming them.
 */
export async function reviewerIn(trx: Transaction<Database>, item: BreakGlassReviewRecord, caller: Actor, delegators: Delegator[], named: string | undefined): Promise<Actor | null> {
  const reviewers = item.reviewers;
  if (named === undefined && isBreakGlassReviewer(reviewers, caller)) return null;
  const onlyReviewers = () => new GreenlightError('FORBIDDEN', `Only members of ${listOf(reviewers)} (or their delegates) review this break-glass.`);
  if (!decidesAnything(caller.roles)) throw onlyReviewers();
  const candidates = delegators.filter((d) => named === undefined || d.delegator.name === named);
  const covering = candidates.filter((d) => coversRule(d, item.ruleName));
  if (named !== undefined && covering.length === 0) {
    throw new GreenlightError('FORBIDDEN', `Your delegation from ${named} does not cover rule "${item.ruleName}", so you cannot review this break-glass for them.`);
  }
  let refusal: GreenlightError | null = null;
  const able: Actor[] = [];
  for (const { delegator } of covering) {
    const now = await asTheyStandNow(trx, delegator);
    if (!now) refusal ??= new GreenlightError('FORBIDDEN', `${delegator.name} has been disabled; nobody reviews for them now.`);
    else if (now.id === item.requesterId) refusal ??= new GreenlightError('SELF_APPROVAL', `${now.name} broke this glass, so their delegate cannot review it; another reviewer has to.`);
    else if (!isBreakGlassReviewer(reviewers, now)) refusal ??= new GreenlightError('FORBIDDEN', `${now.name} no longer reviews this break-glass (it is for members of ${listOf(reviewers)} with a role that decides), so neither can their delegate.`);
    else able.push(now);
  }
  // The review is recorded as given for one reviewer: with several to choose from, the caller says which.
  if (able.length > 1) throw new GreenlightError('INVALID_INPUT', `You stand in for ${inWords(able.map((person) => person.name))} here; say for whom with onBehalfOf.`);
  const [only] = able;
  if (only) return only;
  throw refusal ?? onlyReviewers();
}
