import type { Transaction } from 'kysely';
import { GreenlightError } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { RequestRecord } from '../store/requests.js';
import { decisionStore } from '../store/decisions.js';
import type { Context } from './context.js';
import type { Actor } from './actor.js';
import type { Delegator } from './deciders.js';
import { isEligibleApprover } from './request-view.js';
import { onUnexpiredRequest } from './lifecycle/expiry.js';
import { asTheyStandNow } from './still-enabled.js';
import { nothingToDecide, refusedAsOutsider, refusedForNamed, refusedVote, voterOn } from './decide-refusals.js';

/** Whose vote is let in: the caller as they stand now, and whom they cast it for (null: themselves). */
export interface AdmittedVote {
  caller: Actor;
  standIn: Actor | null;
}

/**
 * Everything a vote is checked against before it is cast, read in the transaction that would cast
 * it: the request still pending, its caller and whom they vote for as they stand now (a disable,
 * a change of roles or groups committed since the call was let in counts), and no vote of theirs in yet.
 */
async function admittedVote(trx: Transaction<Database>, current: RequestRecord, actor: Actor, delegators: Delegator[], named: string | undefined): Promise<AdmittedVote> {
  if (current.status !== 'pending') throw new GreenlightError('ALREADY_DECIDED', nothingToDecide(current));
  const caller = await asTheyStandNow(trx, actor);
  if (!caller) throw new GreenlightError('UNAUTHENTICATED', 'Your account has been disabled; nothing was decided.');
  const { ownVote, standIn: standInThen } = voterOn(current, caller, delegators, named);
  const standIn = standInThen && (await asTheyStandNow(trx, standInThen));
  if (standInThen && !standIn) throw new GreenlightError('NOT_ELIGIBLE', `${standInThen.name} has been disabled; nobody decides for them now.`);
  if (standIn && !isEligibleApprover(current, standIn)) throw new GreenlightError('NOT_ELIGIBLE', `${standIn.name} can no longer decide this request, so neither can their delegate.`);
  const refused = refusedVote(current, caller, { ownVote, standIn });
  if (refused) throw refused;
  const voter = standIn ?? caller;
  // One person, one vote: a delegate who voted (as themselves or for someone) casts no second one.
  const cast = await decisionStore.castBy(trx, current.id, actor.id);
  if (cast && (standIn || cast.approverName !== actor.name)) {
    const whose = cast.approverName === actor.name ? 'your own' : `${cast.approverName}'s`;
    throw new GreenlightError('ALREADY_DECIDED', `You already cast ${whose} vote (to ${cast.decision}) on this request; one person votes once, so it needs another approver.`);
  }
  const voted = await decisionStore.ofApprover(trx, current.id, voter.id);
  if (voted) {
    const who = standIn ? `${standIn.name}'s vote (to ${voted.decision}) is already in${voted.delegateName ? `, cast by ${voted.delegateName}` : ''}` : `You already voted to ${voted.decision} this request`;
    throw new GreenlightError('ALREADY_DECIDED', `${who}; it needs another approver.`);
  }
  return { caller, standIn };
}

/**
 * Runs `cast` on request `requestId` in one transaction once `actor`'s vote on it (for `named`, when
 * given; `delegators` read when the decision is made) is let in, throwing what it is refused with
 * otherwise. A request found past its expiry is expired instead (onUnexpiredRequest).
 */
export async function onAdmittedVote<T>(
  ctx: Context,
  actor: Actor,
  requestId: string,
  delegators: Delegator[],
  named: string | undefined,
  cast: (trx: Transaction<Database>, current: RequestRecord, vote: AdmittedVote) => Promise<T>,
): Promise<T> {
  const forNamed = refusedForNamed(actor, delegators, named);
  if (forNamed) throw forNamed;
  const admit = (current: RequestRecord) => {
    const outsider = refusedAsOutsider(current, actor, delegators, named);
    if (outsider) throw outsider;
  };
  return onUnexpiredRequest(ctx, requestId, 'nothing to decide. Submit it again if it is still needed.', admit, async (trx, current) =>
    cast(trx, current, await admittedVote(trx, current, actor, delegators, named)),
  );
}

/**
 * What a vote would be refused with now, by the reading decideRequest makes, casting nothing: for a
 * channel that asks for more (Slack's deny form) before it decides. Null: it would be let in; the
 * decision checks all of it again. A request found past its expiry is expired here too, as a vote would.
 */
export async function voteRefusal(ctx: Context, actor: Actor, requestId: string, delegators: Delegator[], named: string | undefined): Promise<GreenlightError | null> {
  try {
    await onAdmittedVote(ctx, actor, requestId, delegators, named, async () => undefined);
    return null;
  } catch (error) {
    if (error instanceof GreenlightError) return error;
    throw error;
  }
}
