import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { breakGlassReviewStore } from '../../store/break-glass-reviews.js';
import { SYSTEM_ACTOR_NAME } from '../actor.js';
import { audit, type Context } from '../context.js';
import { eligibleGroupsOf, parseRule } from '../request-view.js';
import { announceUpdated, type AfterCommit } from './after-commit.js';
import { auditFields } from './transition.js';

/**
 * A break-glass use nobody reviewed within its window: it is marked overdue (which keeps the user's
 * next break-glass refused) and escalates like a request, to the rule's escalation groups, or where
 * the rule has none, to its reviewers again. They are added to who may see it, so they can chase it.
 */
export async function markReviewOverdue(ctx: Context, trx: Transaction<Database>, requestId: string): Promise<AfterCommit | null> {
  const item = await breakGlassReviewStore.ofRequest(trx, requestId);
  const row = await trx.selectFrom('requests').selectAll().where('id', '=', requestId).executeTakeFirst();
  if (!item || !row || item.outcome !== null) return null;
  const rule = parseRule(row);
  const escalationGroups = [...new Set(rule.escalation.flatMap((step) => step.notify))];
  const notified = escalationGroups.length ? escalationGroups : item.reviewers;
  const iso = ctx.clock.now().toISOString();
  await audit(ctx, trx, {
    actor: SYSTEM_ACTOR_NAME,
    type: 'request.review_overdue',
    ...auditFields(row),
    outcome: 'overdue',
    data: { incident: item.incident, dueAt: item.dueAt, notified },
  });
  const groups = [...new Set([...eligibleGroupsOf(row), ...notified])];
  await trx
    .updateTable('requests')
    .set({ eligible_groups: JSON.stringify(groups), updated_at: iso, version: Number(row.version) + 1 })
    .where('id', '=', row.id)
    .execute();
  return announceUpdated(ctx, row.id, { groups: notified, users: [] });
}
