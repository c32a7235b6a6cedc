import { GreenlightError, parseOrThrow, formatDuration, reviewInputSchema, type FrozenRule, type GreenlightRequest, type ParsedNewRequest } from '../../protocol/index.js';
import { newRequestRecord } from './new-request.js';
import { requestStore, type RequestRecord } from '../store/requests.js';
import { breakGlassReviewStore, whoReviewed } from '../store/break-glass-reviews.js';
import type { Actor } from './actor.js';
import { announce } from './announce.js';
import { buildView, canSee, viewReader } from './request-view.js';
import { idempotencyMismatch, sameSubmission } from './idempotency.js';
import { readBackRefusal } from './read-back.js';
import { audit, inTransaction, LostRace, type Context } from './context.js';
import { asTheyStandNow, disabledRequester, stillEnabled } from './still-enabled.js';
import { activeDelegatorsOf } from './deciders.js';
import { mayApproachReview, namedDelegator, reviewerIn } from './break-glass-reviewer.js';
import { issueGrant } from './grants.js';
import { auditFields } from './lifecycle/transition.js';
import { addDeadline } from './lifecycle/deadlines.js';
import { loadRequestRow, onUnexpiredRequest } from './lifecycle/expiry.js';
import { enqueueNotifications } from '../notify/enqueue.js';

/** How long reviewers have to ratify a break-glass use (or not). */
export const REVIEW_WITHIN_SECONDS = 24 * 3600;


const listOf = (items: string[]) => items.join(', ');

/**
 * Access at once for an incident: only members of the rule's break-glass groups, not within its
 * cooldown, and not while an earlier use of theirs is unratified or overdue for review. The request is
 * approved with a grant marked `bg` (capped at maxTtl), its approvers and reviewers are told at once,
 * and a review item waits for one of the reviewers.
 */
export async function submitBreakGlass(ctx: Context, actor: Actor, parsed: ParsedNewRequest & { breakGlass: { incident: string } }, rule: FrozenRule): Promise<{ request: GreenlightRequest; created: boolean }> {
  const glass = rule.breakGlass;
  if (parsed.notBefore) throw new GreenlightError('INVALID_INPUT', 'Invalid request: notBefore: break-glass is access now; leave out the start, or ask for approval of a scheduled start instead.');
  if (!glass) throw new GreenlightError('BREAK_GLASS_FORBIDDEN', `Rule "${rule.name}" has no break-glass; ask for approval instead.`);
  if (!actor.groups.some((group) => glass.groups.includes(group))) {
    throw new GreenlightError('BREAK_GLASS_FORBIDDEN', `Break-glass under rule "${rule.name}" is for members of ${listOf(glass.groups)}; ask for approval instead.`);
  }
  const now = ctx.clock.now();
  const iso = now.toISOString();
  const outcome = await inTransaction(ctx, async (trx): Promise<{ row: RequestRecord; replayed: boolean }> => {
    // Two uses by one person may run at once (on one hub or two): the transaction holds the audit
    // chain's head from its start (inTransaction), so the checks below see a use the other
    // committed, and the other waits for this one.
    if (!(await stillEnabled(trx, actor.id))) throw disabledRequester();
    if (parsed.idempotencyKey) {
      // A retry of a use already made (its answer lost) gets that use back: not a second one, nor a cooldown refusal.
      const existing = await requestStore.byIdempotencyKey(trx, actor.id, parsed.idempotencyKey);
      if (existing) {
        if (!(await sameSubmission(trx, existing, parsed))) throw idempotencyMismatch(parsed.idempotencyKey, existing);
        const unreadable = readBackRefusal(actor, existing);
        if (unreadable) throw unreadable;
        return { row: existing, replayed: true };
      }
    }
    const owed = await breakGlassReviewStore.owedBy(trx, actor.id, iso);
    if (owed) {
      const why = owed.outcome === 'unratified' ? 'was not ratified' : `is overdue for review (due ${owed.dueAt})`;
      throw new GreenlightError('BREAK_GLASS_REVIEW_PENDING', `Your break-glass ${owed.requestId} ${why}; until that is settled, ask for approval instead.`);
    }
    if (glass.cooldownSeconds > 0) {
      const since = new Date(now.getTime() - glass.cooldownSeconds * 1000).toISOString();
      const recent = await breakGlassReviewStore.lastUseSince(trx, actor.id, rule.name, since);
      if (recent !== undefined) {
        const next = new Date(Date.parse(recent) + glass.cooldownSeconds * 1000).toISOString();
        throw new GreenlightError('BREAK_GLASS_COOLDOWN', `You used break-glass under rule "${rule.name}" at ${recent}; the next use is possible from ${next} (cooldown ${formatDuration(glass.cooldownSeconds)}). Ask for approval instead.`);
      }
    }
    const approversAndReviewers = [...new Set([...rule.approvers, ...glass.reviewers])];
    const request: RequestRecord = {
      ...newRequestRecord(actor, parsed, rule, now),
      // Approved as it is written: it never waits, so it takes no place under the pending cap.
      status: 'approved',
      eligible_groups: approversAndReviewers,
      decided_at: iso,
      decided_by: actor.name,
      // Break-glass is access now: it takes no scheduled start.
      not_before: null,
    };
    await requestStore.insert(trx, ctx.store.dialect, request);
    const dueAt = new Date(now.getTime() + REVIEW_WITHIN_SECONDS * 1000).toISOString();
    const message = `Break-glass by ${actor.name} on ${rule.name}: ${parsed.breakGlass.incident} — ${parsed.reason}`;
    await audit(ctx, trx, { actor: actor.name, type: 'request.submitted', ...auditFields(request), outcome: 'pending', data: { rule: rule.name, risk: request.risk, reason: request.reason, notified: approversAndReviewers } });
    await audit(ctx, trx, {
      actor: actor.name,
      type: 'request.break_glass',
      ...auditFields(request),
      outcome: 'break_glass',
      data: { incident: parsed.breakGlass.incident, reason: parsed.reason, rule: rule.name, reviewers: glass.reviewers, dueAt, message },
    });
    await breakGlassReviewStore.insert(trx, { requestId: request.id, requesterId: actor.id, ruleName: rule.name, incident: parsed.breakGlass.incident, reviewers: glass.reviewers, createdAt: iso, dueAt });
    await addDeadline(trx, { kind: 'review_due', requestId: request.id, grantJti: null, step: null, dueAt: dueAt }, now);
    ctx.deadlineWritten(dueAt);
    await audit(ctx, trx, { actor: actor.name, type: 'request.approved', ...auditFields(request), outcome: 'approved', data: { breakGlass: true, incident: parsed.breakGlass.incident } });
    const grant = await issueGrant(ctx, trx, request, now, { breakGlass: { maxTtlSeconds: glass.maxTtlSeconds } });
    ctx.deadlineWritten(grant.expiresAt);
    await enqueueNotifications(ctx, trx, 'request.decided', request);
    await enqueueNotifications(ctx, trx, 'request.break_glass', request, undefined, { message });
    return { row: request, replayed: false };
  });
  if (outcome.replayed) return { request: await buildView(viewReader(ctx), outcome.row, actor), created: false };
  // Every approver of the rule and every reviewer hears of it at once.
  return { request: await announce(ctx, outcome.row, actor, { groups: outcome.row.eligible_groups, users: [] }), created: true };
}

/**
 * A reviewer closes a break-glass use as ratified or unratified, with a comment; or a delegate does,
 * for a reviewer they stand in for (recorded as theirs, for that reviewer).
 */
export async function reviewBreakGlass(ctx: Context, actor: Actor, requestId: string, input: unknown): Promise<GreenlightRequest> {
  const review = parseOrThrow(reviewInputSchema, input, 'review');
  // Delegations are read when the review is made; whom they stand in for is read again in its transaction.
  const delegators = await activeDelegatorsOf(ctx.store.db, actor, ctx.clock.now());
  const named = namedDelegator(actor, delegators, review.onBehalfOf);
  // Someone with no part in the request learns nothing from trying: not whether it broke the glass, nor who reviews it.
  // Reviewing is a decision: like approving, it takes a role that decides, not just the group.
  const admit = (current: RequestRecord) => {
    if (!canSee(current, actor) && !mayApproachReview(current, actor, delegators, named)) throw new GreenlightError('FORBIDDEN', 'You are neither the requester nor an approver of this request.');
  };
  const row = await onUnexpiredRequest(ctx, requestId, 'it cannot be reviewed.', admit, async (trx, current) => {
    const item = await breakGlassReviewStore.ofRequest(trx, current.id);
    if (!item) throw new GreenlightError('NOT_FOUND', `Request ${current.id} is not a break-glass use; there is nothing to review.`);
    if (current.requester_id === actor.id) {
      throw new GreenlightError('SELF_APPROVAL', named ? 'A delegate never reviews their own break-glass; one of its reviewers has to.' : 'You cannot review your own break-glass; one of its reviewers has to.');
    }
    // A change of roles or groups committed after this call was let in counts, as it does for a vote.
    const caller = await asTheyStandNow(trx, actor);
    if (!caller) throw new GreenlightError('UNAUTHENTICATED', 'Your account has been disabled; nothing was reviewed.');
    const standIn = await reviewerIn(trx, item, caller, delegators, named);
    if (item.outcome !== null) throw new GreenlightError('ALREADY_DECIDED', `This break-glass was already reviewed: ${item.outcome} by ${whoReviewed(item) ?? 'someone'}.`);
    const iso = ctx.clock.now().toISOString();
    await breakGlassReviewStore.close(trx, current.id, { outcome: review.outcome, reviewedBy: actor.name, reviewedFor: standIn?.name ?? null, comment: review.comment, reviewedAt: iso });
    const behalf = standIn ? { onBehalfOf: standIn.name } : {};
    await audit(ctx, trx, { actor: actor.name, type: 'request.reviewed', ...auditFields(current), outcome: review.outcome, data: { outcome: review.outcome, comment: review.comment, incident: item.incident, ...behalf } });
    const touched = { ...current, updated_at: iso, version: Number(current.version) + 1 };
    if (!(await requestStore.updateVersioned(trx, current, { updated_at: iso }, touched.version))) throw new LostRace();
    return touched;
  });
  return announce(ctx, await loadRequestRow(ctx.store.db, row.id), actor);
}
