import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { requestStore } from '../../store/requests.js';
import { userStore } from '../../store/users.js';
import { breakGlassReviewStore } from '../../store/break-glass-reviews.js';
import { SYSTEM_ACTOR_NAME } from '../actor.js';
import { audit, LostRace, type Context } from '../context.js';
import { announceUpdated, type AfterCommit } from './after-commit.js';
import { auditFields } from './transition.js';
import { enqueueNotifications } from '../../notify/enqueue.js';
import { utcMinute } from '../../notify/chat-text.js';

/**
 * A break-glass use nobody reviewed within its window: it is marked overdue (which keeps the user's
 * next break-glass refused) and escalates like a request, to the rule's escalation groups, or where
 * the rule has none, to its reviewers again. They are added to who may see it, so they can chase it.
 */
export async function markReviewOverdue(ctx: Context, trx: Transaction<Database>, requestId: string): Promise<AfterCommit | null> {
  const item = await breakGlassReviewStore.ofRequest(trx, requestId);
  const row = await requestStore.byId(trx, requestId);
  if (!item || !row || item.outcome !== null) return null;
  const rule = row.rule;
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
  // An escalation step may name a person as well as a group: each joins who may see it as what it is.
  const people = await userStore.activeReachedBy(trx, notified);
  const named = notified.filter((name) => people.some((person) => person.name === name) && !people.some((person) => person.group === name));
  const groups = [...new Set([...row.eligible_groups, ...notified.filter((name) => !named.includes(name))])];
  const users = [...new Set([...row.eligible_users, ...named])];
  // A review (or another change) made since this was read wins: the transaction runs again and finds it.
  if (!(await requestStore.updateVersioned(trx, row, { eligible_groups: groups, eligible_users: users, updated_at: iso }, Number(row.version) + 1))) throw new LostRace();
  // Those it escalates to may have no Greenlight window open: it goes out, urgent, on the rule's channels
  // and on those its escalation steps name for their leads.
  const message = `Break-glass review overdue: ${row.requester_name} on ${rule.name}, ${item.incident}, was due for review by ${utcMinute(item.dueAt)}; ${notified.join(', ')} asked to chase it`;
  await enqueueNotifications(ctx, trx, 'request.break_glass_overdue', { ...row, eligible_groups: groups, eligible_users: users, updated_at: iso, version: Number(row.version) + 1 }, undefined, { message });
  return announceUpdated(ctx, row.id, { groups: notified.filter((name) => !named.includes(name)), users: named });
}
