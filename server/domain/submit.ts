import type { Transaction } from 'kysely';
import { GreenlightError, newRequestSchema, parseOrThrow, type AuditEvent, type FrozenRule, type GreenlightRequest } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { requestStore, type RequestRecord } from '../store/requests.js';
import { audit, type Context } from './context.js';
import { nobody } from './audience.js';
import { SYSTEM_ACTOR_NAME, type Actor } from './actor.js';
import { freezeRule, matchRule } from './policy.js';
import { assembleView, buildView, withoutSecrets, viewReader } from './request-view.js';
import { issueGrant } from './grants.js';
import type { AfterCommit } from './lifecycle/after-commit.js';
import { scheduleRequestDeadlines } from './lifecycle/deadlines.js';
import { escalate } from './lifecycle/escalation.js';
import { loadRequestRow } from './lifecycle/expiry.js';
import { auditFields } from './lifecycle/transition.js';
import { approverReachIn, noApproversError, whyNoApprovers, type Reach } from './approver-reach.js';
import { enqueueNotifications } from '../notify/enqueue.js';
import { checkStart, outsideWindow, plannedAccess } from './time/schedule.js';
import { submitBreakGlass } from './break-glass.js';
import { holdPendingPlace, takePendingPlace } from './pending-places.js';
import { newRequestRecord } from './new-request.js';
import { idempotencyMismatch, sameSubmission } from './idempotency.js';
import { readBackRefusal } from './read-back.js';
import { disabledRequester, stillEnabled } from './still-enabled.js';

const addSeconds = (date: Date, seconds: number) => new Date(date.getTime() + seconds * 1000).toISOString();

export interface SubmitResult {
  request: GreenlightRequest;
  /** False when an earlier submission with the same idempotency key was returned instead. */
  created: boolean;
}

/**
 * A submission that extends a grant: which one, and, read in the transaction that writes it (so two
 * extensions of one grant can't both pass), whether the rule it matched approves it at once or refuses it.
 */
export interface ExtensionOf {
  jti: string;
  admit: (trx: Transaction<Database>, rule: FrozenRule) => Promise<{ autoApprove: boolean } | { refused: GreenlightError }>;
}

export async function submitRequest(ctx: Context, actor: Actor, input: unknown, extension?: ExtensionOf): Promise<SubmitResult> {
  const parsed = parseOrThrow(newRequestSchema, input, 'request');
  const rule = matchRule(ctx.policy.current(), parsed);
  if (!rule) {
    throw new GreenlightError(
      'NO_POLICY',
      `No policy rule covers ${parsed.action} on ${parsed.resource} in ${parsed.environment}, so it cannot be approved. Ask an admin to add a rule for it.`,
    );
  }
  const frozen = freezeRule(rule);
  // An extension's start is the grant's end, not a start anyone sent: its admit checks when it may be asked.
  if (parsed.notBefore && !extension) checkStart(frozen, parsed.notBefore, ctx.clock.now(), 'request');
  if (parsed.breakGlass) return submitBreakGlass(ctx, actor, { ...parsed, breakGlass: parsed.breakGlass }, frozen);
  const outcome = await ctx.submissions.run(async (trx): Promise<Submitted | { refused: GreenlightError }> => {
    const enabled = stillEnabled(trx, actor.id);
    // The reads every submission of a group commit needs go out beside the first: on PostgreSQL
    // one round trip instead of three. An extension (and an auto-approving rule) reads otherwise.
    if (!extension && !frozen.autoApprove) {
      void approverReachIn(trx, frozen, actor);
      holdPendingPlace(trx, actor.id, frozen.name);
    }
    if (!(await enabled)) return { refused: disabledRequester() };
    if (parsed.idempotencyKey) {
      // An earlier submission of this group commit may have used the same key.
      const existing = await requestStore.byIdempotencyKey(trx, actor.id, parsed.idempotencyKey);
      if (existing) {
        // The same key with another body is a client bug, not a retry: never hand back the first request (and its grant).
        if (!(await sameSubmission(trx, existing, parsed))) return { refused: idempotencyMismatch(parsed.idempotencyKey, existing) };
        const unreadable = readBackRefusal(actor, existing);
        if (unreadable) return { refused: unreadable };
        return { row: existing, created: false, deadlines: [] as string[], submitted: null };
      }
    }
    // Refusals are returned, not thrown: a throw would fail the other submissions sharing this
    // transaction. Taking a place under the pending cap writes, so it comes after every other check.
    // Read in the transaction that writes the request, so a member disabled meanwhile is not counted.
    // An extension checks the earlier ones, which may still wait to be written in this group commit.
    if (extension) await requestStore.writeDeferred(trx);
    const admitted = extension ? await extension.admit(trx, frozen) : { autoApprove: false };
    if ('refused' in admitted) return { refused: admitted.refused };
    const autoApprove = frozen.autoApprove || admitted.autoApprove;
    const now = ctx.clock.now();
    // An auto-approved grant is issued with this same `now`, so it finds the same window.
    const access = plannedAccess({ not_before: parsed.notBefore ?? null, requested_ttl_seconds: parsed.requestedTtlSeconds ?? null }, frozen, now);
    if (!access.ok) return { refused: outsideWindow(frozen, access.nextStart) };
    const reach: Reach = autoApprove ? { kind: 'approvers' } : await approverReachIn(trx, frozen, actor);
    if (reach.kind === 'nobody') return { refused: noApproversError(parsed, frozen.name, reach) };
    if (!autoApprove && (await takePendingPlace(trx, actor.id, frozen.name, rule.maxPending)) === null) {
      return { refused: tooManyPending(rule.maxPending, frozen.name) };
    }
    const iso = now.toISOString();
    const firstStep = frozen.escalation[0];
    let row: RequestRecord = {
      ...newRequestRecord(actor, parsed, frozen, now),
      next_escalation_at: firstStep && !autoApprove ? addSeconds(now, firstStep.afterSeconds) : null,
      expires_at: frozen.expireAfterSeconds && !autoApprove ? addSeconds(now, frozen.expireAfterSeconds) : null,
      extends_jti: extension?.jti ?? null,
    };
    if (autoApprove) row = { ...row, status: 'approved', decided_at: iso, decided_by: `policy:${frozen.name}${extension ? ':extensions' : ''}` };
    const escalating = reach.kind === 'escalation';
    // Approving or escalating at once updates the row and adds rows that refer to it: those write it now.
    if (autoApprove || escalating) await requestStore.insert(trx, ctx.store.dialect, row);
    else requestStore.deferInsert(trx, ctx.store.dialect, row);
    const submitted = await audit(ctx, trx, {
      actor: actor.name,
      type: 'request.submitted',
      ...auditFields(row),
      outcome: 'pending',
      data: {
        rule: frozen.name,
        risk: row.risk,
        reason: row.reason,
        notified: autoApprove || escalating ? [] : frozen.approvers,
        ...(extension ? { extends: extension.jti } : {}),
        ...(escalating ? (reach.shortfall ? { tooFewApprovers: { groups: reach.emptyGroups, ...reach.shortfall } } : { noActiveApprovers: reach.emptyGroups }) : {}),
      },
    });
    let deadlines: string[] = [];
    let escalated: AfterCommit | undefined;
    if (autoApprove) {
      await audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'request.approved', ...auditFields(row), outcome: 'approved', data: { autoApprove: true, rule: frozen.name, ...(extension ? { extends: extension.jti } : {}) } });
      await enqueueNotifications(ctx, trx, 'request.decided', row);
      const grant = await issueGrant(ctx, trx, row, now);
      deadlines = [grant.expiresAt];
    } else {
      deadlines = await scheduleRequestDeadlines(trx, row, frozen, now);
      await enqueueNotifications(ctx, trx, 'request.created', row, assembleView(row, { decisions: [], grant: undefined, events: [submitted] }, null));
      // Waiting out the first deadline would only delay the one step that can reach someone; the
      // deadlines of the steps applied here find the request past them and do nothing.
      if (escalating) {
        const skipped = Array.from({ length: reach.step }, (_, index) => index + 1);
        escalated = await escalate(ctx, trx, row, reach.step, { reason: whyNoApprovers(reach.emptyGroups, reach.requesterAlone, reach.shortfall), skipped });
      }
    }
    return { row, created: true, deadlines, submitted: autoApprove || escalated ? null : submitted, escalated };
  });
  if ('refused' in outcome) throw outcome.refused;
  for (const due of outcome.deadlines) ctx.deadlineWritten(due);
  if (outcome.escalated) {
    // Announced as the escalation it is: its targets hear "escalated to you", the requester an update.
    const events = await outcome.escalated();
    for (const event of events) ctx.bus.emit(event);
    const fresh = await loadRequestRow(ctx.store.db, outcome.row.id);
    return { request: await buildView(viewReader(ctx), fresh, actor), created: true };
  }
  // A request just queued has no decisions and no grant yet: its view needs no reading back.
  const request = outcome.submitted
    ? assembleView(outcome.row, { decisions: [], grant: undefined, events: [outcome.submitted] }, actor)
    : await buildView(viewReader(ctx), outcome.row, actor);
  // A request created here is the caller's own, so the caller's view is the requester's full one.
  if (outcome.created) {
    ctx.bus.emit(outcome.row.status === 'pending' ? { type: 'request.created', request: withoutSecrets(request) } : { type: 'request.updated', request, notify: nobody() });
  }
  return { request, created: outcome.created };
}

const tooManyPending = (pending: number, rule: string) =>
  new GreenlightError('TOO_MANY_PENDING', `You already have ${pending} requests waiting under rule "${rule}", its limit; wait for some to be decided or cancel those no longer needed.`);

interface Submitted {
  row: RequestRecord;
  created: boolean;
  deadlines: string[];
  /** The submission's audit event, when the view can be assembled from it without reading back. */
  submitted: AuditEvent | null;
  /** Announces an escalation applied at submission, once committed. */
  escalated?: AfterCommit;
}
