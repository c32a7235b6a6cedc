import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { requestStore } from '../../store/requests.js';
import type { DeadlineRecord } from '../../store/deadlines.js';
import type { Context } from '../context.js';
import { expireGrant, grantExpiring } from '../grants.js';
import { announceEachUpdated, announceUpdated, type AfterCommit } from './after-commit.js';
import { lapseClaim } from './claims.js';
import { escalate, repeatEscalation } from './escalation.js';
import { stepOf } from './deadlines.js';
import { remind } from './reminders.js';
import { buildView, viewReader } from '../request-view.js';
import { expireRequest } from './expiry.js';
import { markReviewOverdue } from './review-overdue.js';
import { runOutDelegation } from './delegation-end.js';

export type { AfterCommit } from './after-commit.js';

/**
 * Applies one due deadline inside the caller's transaction. Every branch is conditional on the
 * request's current state, so a deadline that lost a race (a decision got there first) does nothing.
 * Returns `postponedTo` when the deadline must stay armed (a claim holds the escalation).
 */
export async function applyDeadline(ctx: Context, trx: Transaction<Database>, deadline: DeadlineRecord): Promise<{ postponedTo?: string; after?: AfterCommit }> {
  const now = ctx.clock.now().toISOString();
  if (deadline.kind === 'delegation_end') {
    const released = await runOutDelegation(ctx, trx, deadline.delegationId);
    return released.length > 0 ? { after: announceEachUpdated(ctx, released) } : {};
  }
  if (deadline.kind === 'grant_expiring') {
    const expiring = deadline.grantJti ? await grantExpiring(ctx, trx, deadline.grantJti) : null;
    if (!expiring) return {};
    return {
      after: async () => {
        const fresh = await requestStore.existing(ctx.store.db, expiring.requestId);
        return [{ type: 'grant.expiring', request: await buildView(viewReader(ctx), fresh, { id: fresh.requester_id }), expiresAt: expiring.expiresAt }];
      },
    };
  }
  if (deadline.kind === 'grant_expiry') {
    if (!deadline.grantJti) return {};
    const requestId = await expireGrant(ctx, trx, deadline.grantJti);
    return requestId ? { after: announceUpdated(ctx, requestId) } : {};
  }
  if (deadline.kind === 'review_due') {
    const overdue = await markReviewOverdue(ctx, trx, deadline.requestId);
    return overdue ? { after: overdue } : {};
  }
  const row = await requestStore.byId(trx, deadline.requestId);
  if (!row || row.status !== 'pending') return {};
  // Its expiry, or any deadline that finds it past its expiry (a hub catching up after downtime, or a
  // step due at the very instant it expires): nobody is paged for a request that can no longer be decided.
  if (deadline.kind === 'expiry' || (row.expires_at !== null && row.expires_at <= now)) {
    await expireRequest(ctx, trx, row);
    return { after: announceUpdated(ctx, row.id) };
  }

  switch (deadline.kind) {
    case 'claim_end':
      if (!row.claim_by || !row.claim_until || row.claim_until > now) return {};
      await lapseClaim(ctx, trx, row);
      return { after: announceUpdated(ctx, row.id) };
    case 'escalation': {
      // Escalation step `deadline.step` (0-based, counted across runs of the chain). Steps already
      // applied or skipped leave the request's place in the chain past it.
      const step = deadline.step ?? 0;
      const rule = row.rule;
      const reached = Number(row.escalation_round) * rule.escalation.length + Number(row.escalation_level);
      if (reached > step) return {};
      if (row.claim_by && row.claim_until && row.claim_until > now) return { postponedTo: row.claim_until };
      // An earlier step not applied yet (a claim held it past this one's time, and the hub caught up
      // on both together) goes first, or its tier would never be paged; this one follows at once.
      const { round, index } = stepOf(rule, reached);
      const current = round > Number(row.escalation_round) ? await repeatEscalation(ctx, trx, row, round) : row;
      const after = await escalate(ctx, trx, current, index);
      return reached < step ? { after, postponedTo: now } : { after };
    }
    case 'reminder':
      return { after: await remind(ctx, trx, row, deadline) };
    default:
      return {};
  }
}
