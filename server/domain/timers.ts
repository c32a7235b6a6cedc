import type { Transaction } from 'kysely';
import type { Database, DeadlinesTable, RequestsTable } from '../store/schema.js';
import { audit, LostRace, type Context } from './context.js';
import { SYSTEM_ACTOR_NAME } from './actor.js';
import { approverRooms, buildView, eligibleGroupsOf, eligibleUsersOf, parseRule, userRoom } from './request-view.js';
import { closeDeadlines, stepDueAt } from './deadlines.js';
import { expireGrant } from './grants.js';
import { resolveTargets } from './users.js';
import type { HubEvent } from './bus.js';

/** What to announce once the transaction that applied a deadline has committed. */
export type AfterCommit = () => Promise<HubEvent[]>;

const auditFields = (row: RequestsTable) => ({ requestId: row.id, action: row.action, resource: row.resource, environment: row.environment });

async function conditionalUpdate(trx: Transaction<Database>, row: RequestsTable, changes: Partial<RequestsTable>): Promise<RequestsTable> {
  const version = Number(row.version) + 1;
  const result = await trx.updateTable('requests').set({ ...changes, version }).where('id', '=', row.id).where('version', '=', row.version).executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new LostRace();
  return { ...row, ...changes, version };
}

const updated = (ctx: Context, id: string, extraRooms: string[] = []): AfterCommit => async () => {
  const row = await ctx.store.db.selectFrom('requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return [{ type: 'request.updated', request: await buildView(ctx.store.db, row, { id: row.requester_id }), notify: extraRooms }];
};

/** Expires a pending request inside the caller's transaction: the scheduler's expiry, also applied by a decision that finds it overdue. */
export async function expireRequest(ctx: Context, trx: Transaction<Database>, row: RequestsTable, now: string): Promise<RequestsTable> {
  const next = await conditionalUpdate(trx, row, { status: 'expired', decided_at: now, decided_by: SYSTEM_ACTOR_NAME, updated_at: now, claim_by: null, claim_until: null });
  await closeDeadlines(trx, row.id);
  await audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'request.expired', ...auditFields(row), outcome: 'expired', data: { expiresAt: row.expires_at } });
  return next;
}

/**
 * Applies one due deadline inside the caller's transaction. Every branch is conditional on the
 * request's current state, so a deadline that lost a race (a decision got there first) does nothing.
 * Returns `postponed` when the deadline must stay armed (a claim holds the escalation).
 */
export async function applyDeadline(ctx: Context, trx: Transaction<Database>, deadline: DeadlinesTable): Promise<{ postponedTo?: string; after?: AfterCommit }> {
  const now = ctx.clock.now().toISOString();
  if (deadline.kind === 'grant_expiry') {
    if (!deadline.grant_jti) return {};
    const requestId = await expireGrant(ctx, trx, deadline.grant_jti);
    return requestId ? { after: updated(ctx, requestId) } : {};
  }
  const row = await trx.selectFrom('requests').selectAll().where('id', '=', deadline.request_id).executeTakeFirst();
  if (!row || row.status !== 'pending') return {};

  if (deadline.kind === 'claim_end') {
    if (!row.claim_by || !row.claim_until || row.claim_until > now) return {};
    await conditionalUpdate(trx, row, { claim_by: null, claim_until: null, updated_at: now });
    await audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'request.released', ...auditFields(row), outcome: 'lapsed', data: { reason: `claim by ${row.claim_by} lapsed`, claimer: row.claim_by } });
    return { after: updated(ctx, row.id) };
  }

  if (deadline.kind === 'expiry') {
    await expireRequest(ctx, trx, row, now);
    return { after: updated(ctx, row.id) };
  }

  // Escalation step `deadline.step` (0-based). Steps already applied or skipped leave the level past it.
  const step = deadline.step ?? 0;
  if (Number(row.escalation_level) > step) return {};
  if (row.claim_by && row.claim_until && row.claim_until > now) return { postponedTo: row.claim_until };
  return escalate(ctx, trx, row, step, now);
}

/**
 * Applies escalation step `fromStep` (0-based), or the first after it that reaches anyone. `early`
 * is for a step applied before its deadline, at submission: why, and the steps passed over to reach it.
 */
export async function escalate(
  ctx: Context,
  trx: Transaction<Database>,
  row: RequestsTable,
  fromStep: number,
  now: string,
  early?: { reason: string; skipped: number[] },
): Promise<{ after?: AfterCommit }> {
  const rule = parseRule(row);
  const skipped: number[] = [...(early?.skipped ?? [])];
  let step = fromStep;
  let targets = await resolveTargets(trx, rule.escalation[step]?.notify ?? []);
  // A step with nobody to notify is skipped straight to the next, as an empty on-call tier would be.
  while (targets.people.length === 0 && step + 1 < rule.escalation.length) {
    skipped.push(step + 1);
    step += 1;
    targets = await resolveTargets(trx, rule.escalation[step]?.notify ?? []);
  }
  const previousRooms = approverRooms(row);
  const previouslyNotified = [...eligibleGroupsOf(row), ...eligibleUsersOf(row)];
  if (targets.people.length === 0) skipped.push(step + 1);
  const groups = [...new Set([...eligibleGroupsOf(row), ...targets.groups])];
  const users = [...new Set([...eligibleUsersOf(row), ...targets.users])];
  const next = await conditionalUpdate(trx, row, {
    escalation_level: step + 1,
    eligible_groups: JSON.stringify(groups),
    eligible_users: JSON.stringify(users),
    next_escalation_at: stepDueAt(row, rule, step + 1),
    updated_at: now,
  });
  // Later steps' own deadlines find the level past them and do nothing.
  await audit(ctx, trx, {
    actor: SYSTEM_ACTOR_NAME,
    type: 'request.escalated',
    ...auditFields(row),
    outcome: targets.people.length ? 'escalated' : 'no-one-to-notify',
    data: { step: step + 1, notified: [...targets.groups, ...targets.users], skipped, previouslyNotified, ...(early ? { reason: early.reason } : {}) },
  });
  if (targets.people.length === 0) return { after: updated(ctx, row.id) };
  const newTargets = [...targets.groups.map((g) => `group:${g}`), ...targets.users.map(userRoom)];
  return {
    after: async () => {
      const fresh = await ctx.store.db.selectFrom('requests').selectAll().where('id', '=', next.id).executeTakeFirstOrThrow();
      const request = await buildView(ctx.store.db, fresh, { id: fresh.requester_id });
      return [{ type: 'request.escalated', request, step: step + 1, previouslyNotified, newTargets, previousRooms }];
    },
  };
}
