import type { Kysely, Transaction } from 'kysely';
import { GreenlightError } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { RequestRecord } from '../store/requests.js';
import { decisionStore } from '../store/decisions.js';
import type { Context } from './context.js';
import type { Actor } from './actor.js';
import type { Delegator } from './deciders.js';
import { isEligibleApprover } from './request-view.js';
import { loadRequestRow, onUnexpiredRequest, pastItsExpiry } from './lifecycle/expiry.js';
import { asTheyStandNow } from './still-enabled.js';
import { nothingToDecide, refusedAsOutsider, refusedForNamed, refusedVote, voterOn } from './decide-refusals.js';

/** Whose vote is let in: the caller as they stand now, and whom they cast it for (null: themselves). */
export interface AdmittedVote {
  caller: Actor;
  standIn: Actor | null;
}

/**
 * Everything a vote is checked against before it is cast: the request still pending, its caller and
 * whom they vote for as they stand now (a disable, a change of roles or groups committed since the
 * call was let in counts), and no vote of theirs in yet. Read in the transaction that would cast it,
 * or, for a vote only asked about (voteRefusal), straight from the database.
 */
async function admittedVote(db: Kysely<Database> | Transaction<Database>, current: RequestRecord, actor: Actor, delegators: Delegator[], named: string | undefined): Promise<AdmittedVote> {
  if (current.status !== 'pending') throw new GreenlightError('ALREADY_DECIDED', nothingToDecide(current));
  const caller = await asTheyStandNow(db, actor);
  if (!caller) throw new GreenlightError('UNAUTHENTICATED', 'Your account has been disabled; nothing was decided.');
  const { ownVote, standIn: standInThen } = voterOn(current, caller, delegators, named);
  const standIn = standInThen && (await asTheyStandNow(db, standInThen));
  if (standInThen && !standIn) throw new GreenlightError('NOT_ELIGIBLE', `${standInThen.name} has been disabled; nobody decides for them now.`);
  if (standIn && !isEligibleApprover(current, standIn)) throw new GreenlightError('NOT_ELIGIBLE', `${standIn.name} can no longer decide this request, so neither can their delegate.`);
  const refused = refusedVote(current, caller, { ownVote, standIn });
  if (refused) throw refused;
  const voter = standIn ?? caller;
  // One person, one vote: a delegate who voted (as themselves or for someone) casts no second one.
  const cast = await decisionStore.castBy(db, current.id, actor.id);
  if (cast && (standIn || cast.approverName !== actor.name)) {
    const whose = cast.approverName === actor.name ? 'your own' : `${cast.approverName}'s`;
    throw new GreenlightError('ALREADY_DECIDED', `You already cast ${whose} vote (to ${cast.decision}) on this request; one person votes once, so it needs another approver.`);
  }
  const voted = await decisionStore.ofApprover(db, current.id, voter.id);
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
  const admit = admitting(actor, delegators, named);
  return onUnexpiredRequest(ctx, requestId, 'nothing to decide. Submit it again if it is still needed.', admit, async (trx, current) =>
    cast(trx, current, await admittedVote(trx, current, actor, delegators, named)),
  );
}

/** Throws what `actor`'s vote (for `named`) is refused with before the request is read, and returns what refuses it once read. */
function admitting(actor: Actor, delegators: Delegator[], named: string | undefined): (current: RequestRecord) => void {
  const forNamed = refusedForNamed(actor, delegators, named);
  if (forNamed) throw forNamed;
  return (current) => {
    const outsider = refusedAsOutsider(current, actor, delegators, named);
    if (outsider) throw outsider;
  };
}

/**
 * What a vote would be refused with now, by the checks decideRequest makes, casting nothing: for a
 * channel that asks for more (Slack's deny form) before it decides. Null: it would be let in; the
 * decision checks all of it again.
 *
 * It only reads, outside any transaction: anyone may click, and the transaction a vote is cast in
 * takes the audit chain's head first, which every write in the hub waits for. A request found past
 * its expiry is expired here, as a vote would, on that locking path: then its message says Expired
 * rather than offering a form that could only be refused.
 */
export async function voteRefusal(ctx: Context, actor: Actor, requestId: string, delegators: Delegator[], named: string | undefined): Promise<GreenlightError | null> {
  try {
    const admit = admitting(actor, delegators, named);
    const current = await loadRequestRow(ctx.store.db, requestId);
    admit(current);
    if (pastItsExpiry(current, ctx.clock.now())) await onAdmittedVote(ctx, actor, requestId, delegators, named, async () => undefined);
    else await admittedVote(ctx.store.db, current, actor, delegators, named);
    return null;
  } catch (error) {
    if (error instanceof GreenlightError) return error;
    throw error;
  }
}
