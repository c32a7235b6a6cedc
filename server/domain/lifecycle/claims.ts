import type { Transaction } from 'kysely';
import { decidesAnything, GreenlightError, type GreenlightRequest } from '../../../protocol/index.js';
import type { Database } from '../../store/schema.js';
import type { RequestRecord } from '../../store/requests.js';
import { deadlineStore } from '../../store/deadlines.js';
import { decisionStore } from '../../store/decisions.js';
import { tallyApproval, voteLines } from '../quorum.js';
import type { Actor } from '../actor.js';
import { actsAsAdmin, SYSTEM_ACTOR_NAME } from '../actor.js';
import { announce, unchanged } from '../announce.js';
import { inTransaction, type Context } from '../context.js';
import { isEligibleApprover } from '../request-view.js';
import { activeDelegatorsOf, mayDecide, standInsOn } from '../deciders.js';
import { addDeadline, stepDueAt } from './deadlines.js';
import { loadRequestRow, onUnexpiredRequest } from './expiry.js';
import { transition } from './transition.js';
import { asTheyStandNow } from '../still-enabled.js';

/**
 * An approver says "I'm looking at this" (PagerDuty's acknowledge): others see who, and escalation
 * waits until the claim lapses or is released. A claim never stops anyone else from deciding.
 */
export async function claimRequest(ctx: Context, actor: Actor, requestId: string): Promise<GreenlightRequest> {
  const notEligible = () => new GreenlightError('NOT_ELIGIBLE', 'Only an approver of this request, or their delegate, can claim it.');
  // Whoever may decide may claim: a delegate for the delegators they stand in for, read now as a decision reads them.
  const delegators = await activeDelegatorsOf(ctx.store.db, actor, ctx.clock.now());
  const admit = (current: RequestRecord) => {
    if (current.requester_id !== actor.id && !mayDecide(current, actor, delegators)) throw notEligible();
  };
  const outcome = await onUnexpiredRequest(ctx, requestId, 'there is nothing to claim.', admit, async (trx, current) => {
    const own = current.requester_id === actor.id;
    if (current.status !== 'pending') throw new GreenlightError('ALREADY_DECIDED', `This request is already ${current.status}.`);
    // As a vote does: a change of roles or groups committed since the call was let in counts.
    const caller = await asTheyStandNow(trx, actor);
    if (!caller) throw new GreenlightError('UNAUTHENTICATED', 'Your account has been disabled; nothing was claimed.');
    if (own && !current.rule.allowSelfApproval) throw new GreenlightError('SELF_APPROVAL', 'You cannot claim your own request.');
    if (own && !isEligibleApprover(current, caller)) throw notEligible();
    const standInThen = isEligibleApprover(current, caller) ? null : decidesAnything(caller.roles) ? (standInsOn(delegators, current)[0] ?? null) : null;
    // Whom they stand in for is read afresh too: a delegator moved out of the approvers backs no claim.
    const standIn = standInThen && (await asTheyStandNow(trx, standInThen));
    if (!isEligibleApprover(current, caller) && !(standIn && isEligibleApprover(current, standIn))) throw notEligible();
    if (standIn && current.requester_id === standIn.id) throw new GreenlightError('SELF_APPROVAL', `${standIn.name} asked for this, so their delegate cannot claim it; another approver has to.`);
    const voter = standIn ?? caller;
    // A claim holds escalation for someone about to decide; one who has voted can't, and would hold it for ever.
    const cast = await decisionStore.castBy(trx, current.id, actor.id);
    if (cast) throw new GreenlightError('CONFLICT', `You already ${cast.decision === 'approve' ? 'approved' : 'denied'} this request${cast.approverName === actor.name ? '' : ` (for ${cast.approverName})`}; a claim is for someone still to decide, and holds escalation for them.`);
    const theirs = standIn ? await decisionStore.ofApprover(trx, current.id, standIn.id) : null;
    if (standIn && theirs) throw new GreenlightError('CONFLICT', `${standIn.name}'s vote (to ${theirs.decision}) is already in; a claim is for someone still to decide.`);
    // Under per-group quorum, likewise one whose approval would fill no line still open (QUORUM_LINE_MET).
    const lines = voteLines(current.rule, current, voter);
    if (lines !== null) await tallyApproval(trx, current.rule, current.id, { approver: voter.name, lines });
    const now = ctx.clock.now();
    const iso = now.toISOString();
    const held = current.claim_by !== null && current.claim_until !== null && current.claim_until > iso;
    // Their own claim, asked for again (a second click, a retry after a lost answer): it holds as it is.
    if (held && current.claim_by === actor.name) return { row: current, changed: false };
    if (held) throw new GreenlightError('CONFLICT', `${current.claim_by} is already looking at this request (until ${current.claim_until}); you can still decide it.`);
    const until = new Date(now.getTime() + current.rule.claimHoldsSeconds * 1000).toISOString();
    const { row: next } = await transition(ctx, trx, current, 'claim', { actor: actor.name, changes: { claim_by: actor.name, claim_until: until }, outcome: 'claimed', data: { until } });
    await addDeadline(trx, { kind: 'claim_end', requestId: current.id, grantJti: null, step: null, dueAt: until }, now);
    ctx.deadlineWritten(until);
    return { row: next, changed: true };
  });
  return outcome.changed ? announce(ctx, outcome.row, actor) : unchanged(ctx, outcome.row, actor);
}

export async function releaseRequest(ctx: Context, actor: Actor, requestId: string): Promise<GreenlightRequest> {
  const row = await inTransaction(ctx, async (trx) => {
    const current = await loadRequestRow(trx, requestId);
    // Someone who may not see the request learns nothing of its claim, not even whether there is one.
    const concerned = current.claim_by === actor.name || actsAsAdmin(actor) || current.requester_id === actor.id || isEligibleApprover(current, actor);
    if (!concerned) throw new GreenlightError('FORBIDDEN', 'You are neither the requester nor an approver of this request.');
    if (!current.claim_by) throw new GreenlightError('CONFLICT', 'Nobody has claimed this request.');
    if (current.claim_by !== actor.name && !actsAsAdmin(actor)) throw new GreenlightError('FORBIDDEN', `Only ${current.claim_by} (or an admin) can release this claim.`);
    return endClaim(ctx, trx, current, actor.name, 'released');
  });
  return announce(ctx, row, actor);
}

/** Ends a claim, released by its holder or an admin, or because its holder was disabled: escalation resumes at once where it was due. */
export async function endClaim(ctx: Context, trx: Transaction<Database>, row: RequestRecord, by: string, why: string): Promise<RequestRecord> {
  const { row: next } = await transition(ctx, trx, row, 'release', { actor: by, changes: { claim_by: null, claim_until: null }, outcome: 'released', data: { reason: why, claimer: row.claim_by } });
  await resumeHeldEscalation(ctx, trx, row);
  return next;
}

/** A claim ran out without a decision: escalation carries on as if it had never been held. */
export async function lapseClaim(ctx: Context, trx: Transaction<Database>, row: RequestRecord): Promise<RequestRecord> {
  const claimer = row.claim_by;
  const { row: next } = await transition(ctx, trx, row, 'lapseClaim', {
    actor: SYSTEM_ACTOR_NAME,
    changes: { claim_by: null, claim_until: null },
    outcome: 'lapsed',
    data: { reason: `claim by ${claimer ?? 'someone'} lapsed`, claimer },
  });
  return next;
}

/** Escalation steps held back by a released claim become due again at their original time (or now, if that passed). */
async function resumeHeldEscalation(ctx: Context, trx: Transaction<Database>, current: RequestRecord): Promise<void> {
  const iso = ctx.clock.now().toISOString();
  const rule = current.rule;
  const held = await deadlineStore.openOfRequest(trx, current.id, 'escalation');
  for (const deadline of held) {
    const original = stepDueAt(current, rule, deadline.step ?? 0) ?? deadline.dueAt;
    const due = original > iso ? original : iso;
    await deadlineStore.moveTo(trx, deadline.id, due);
    ctx.deadlineWritten(due);
  }
  await deadlineStore.closeOfRequest(trx, current.id, 'claim_end');
}
