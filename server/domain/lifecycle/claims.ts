import { GreenlightError, type GreenlightRequest } from '../../protocol/index.js';
import { audit, inTransaction, LostRace, type Context } from './context.js';
import type { Actor } from './actor.js';
import { isAdmin } from './actor.js';
import { isEligibleApprover, parseRule } from './request-view.js';
import { addDeadline, stepDueAt } from './deadlines.js';
import { announce, onUnexpiredRequest } from './requests.js';
import type { RequestsTable } from '../store/schema.js';

const auditFields = (row: { id: string; action: string; resource: string; environment: string }) => ({ requestId: row.id, action: row.action, resource: row.resource, environment: row.environment });

/**
 * An approver says "I'm looking at this" (PagerDuty's acknowledge): others see who, and escalation
 * waits until the claim lapses or is released. A claim never stops anyone else from deciding.
 */
export async function claimRequest(ctx: Context, actor: Actor, requestId: string): Promise<GreenlightRequest> {
  const notEligible = () => new GreenlightError('NOT_ELIGIBLE', 'Only an approver of this request can claim it.');
  const admit = (current: RequestsTable) => {
    if (current.requester_id !== actor.id && !isEligibleApprover(current, actor)) throw notEligible();
  };
  const row = await onUnexpiredRequest(ctx, requestId, 'there is nothing to claim.', admit, async (trx, current) => {
    const own = current.requester_id === actor.id;
    if (current.status !== 'pending') throw new GreenlightError('ALREADY_DECIDED', `This request is already ${current.status}.`);
    if (own && !parseRule(current).allowSelfApproval) throw new GreenlightError('SELF_APPROVAL', 'You cannot claim your own request.');
    if (own && !isEligibleApprover(current, actor)) throw notEligible();
    const now = ctx.clock.now();
    const iso = now.toISOString();
    if (current.claim_by && current.claim_by !== actor.name && current.claim_until && current.claim_until > iso) {
      throw new GreenlightError('CONFLICT', `${current.claim_by} is already looking at this request (until ${current.claim_until}); you can still decide it.`);
    }
    const until = new Date(now.getTime() + parseRule(current).claimHoldsSeconds * 1000).toISOString();
    const result = await trx
      .updateTable('requests')
      .set({ claim_by: actor.name, claim_until: until, updated_at: iso, version: Number(current.version) + 1 })
      .where('id', '=', current.id)
      .where('version', '=', current.version)
      .executeTakeFirst();
    // Lost a race with a vote or an escalation: the transaction runs again on the fresh row.
    if (Number(result.numUpdatedRows) !== 1) throw new LostRace();
    await addDeadline(trx, { kind: 'claim_end', request_id: current.id, grant_jti: null, step: null, due_at: until }, now);
    await audit(ctx, trx, { actor: actor.name, type: 'request.claimed', ...auditFields(current), outcome: 'claimed', data: { until } });
    ctx.deadlineWritten(until);
    return { ...current, claim_by: actor.name, claim_until: until, updated_at: iso, version: Number(current.version) + 1 };
  });
  return announce(ctx, row, actor);
}

export async function releaseRequest(ctx: Context, actor: Actor, requestId: string): Promise<GreenlightRequest> {
  const row = await inTransaction(ctx, async (trx) => {
    const current = await trx.selectFrom('requests').selectAll().where('id', '=', requestId).executeTakeFirst();
    if (!current) throw new GreenlightError('NOT_FOUND', `No request ${requestId}.`);
    if (!current.claim_by) throw new GreenlightError('CONFLICT', 'Nobody has claimed this request.');
    if (current.claim_by !== actor.name && !isAdmin(actor)) throw new GreenlightError('FORBIDDEN', `Only ${current.claim_by} (or an admin) can release this claim.`);
    const now = ctx.clock.now();
    const iso = now.toISOString();
    const result = await trx
      .updateTable('requests')
      .set({ claim_by: null, claim_until: null, updated_at: iso, version: Number(current.version) + 1 })
      .where('id', '=', current.id)
      .where('version', '=', current.version)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) throw new LostRace();
    // Escalation steps held back by the claim become due again at their original time (or now, if that passed).
    const rule = parseRule(current);
    const held = await trx.selectFrom('deadlines').selectAll().where('request_id', '=', current.id).where('kind', '=', 'escalation').where('done', '=', 0).execute();
    for (const deadline of held) {
      const original = stepDueAt(current, rule, deadline.step ?? 0) ?? deadline.due_at;
      const due = original > iso ? original : iso;
      await trx.updateTable('deadlines').set({ due_at: due }).where('id', '=', deadline.id).execute();
      ctx.deadlineWritten(due);
    }
    await trx.updateTable('deadlines').set({ done: 1 }).where('request_id', '=', current.id).where('kind', '=', 'claim_end').where('done', '=', 0).execute();
    await audit(ctx, trx, { actor: actor.name, type: 'request.released', ...auditFields(current), outcome: 'released', data: { reason: 'released' } });
    return { ...current, claim_by: null, claim_until: null, updated_at: iso, version: Number(current.version) + 1 };
  });
  return announce(ctx, row, actor);
}
