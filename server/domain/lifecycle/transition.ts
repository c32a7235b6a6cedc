import type { Transaction } from 'kysely';
import { GreenlightError, type AuditEvent, type AuditType, type NotificationEvent, type RequestStatus } from '../../../protocol/index.js';
import type { Database } from '../../store/schema.js';
import { requestStore, type RequestChanges, type RequestRecord } from '../../store/requests.js';
import { audit, LostRace, type Context } from '../context.js';
import { closeDeadlines } from './deadlines.js';
import { releasePendingPlace } from '../pending-places.js';
import { enqueueChatRefresh, enqueueNotifications } from '../../notify/enqueue.js';

interface TransitionSpec {
  from: RequestStatus;
  to: RequestStatus;
  audit: AuditType;
  /** What notification channels hear of it, if anything. */
  notify?: NotificationEvent;
}

/**
 * Every way a request changes, at a glance. A transition to a final status records who and when,
 * ends any claim and closes the request's deadlines (a grant's own expiry stays). One with `notify`
 * also writes its notifications to the outbox, in the same transaction.
 */
export const TRANSITIONS = {
  vote: { from: 'pending', to: 'pending', audit: 'request.vote' },
  /** An approval taken back because its approver (or the delegate who cast it) was disabled. */
  withdrawVote: { from: 'pending', to: 'pending', audit: 'request.vote_withdrawn' },
  /** An approval that now counts toward fewer `require:` lines: its approver left some of their groups. */
  narrowVote: { from: 'pending', to: 'pending', audit: 'request.vote_narrowed' },
  approve: { from: 'pending', to: 'approved', audit: 'request.approved', notify: 'request.decided' },
  deny: { from: 'pending', to: 'denied', audit: 'request.denied', notify: 'request.decided' },
  cancel: { from: 'pending', to: 'cancelled', audit: 'request.cancelled', notify: 'request.cancelled' },
  expire: { from: 'pending', to: 'expired', audit: 'request.expired', notify: 'request.expired' },
  escalate: { from: 'pending', to: 'pending', audit: 'request.escalated', notify: 'request.escalated' },
  /** `repeat`: the chain starts another run; its steps then escalate (and notify) as the first run's did. */
  repeatEscalation: { from: 'pending', to: 'pending', audit: 'request.escalation_repeated' },
  remind: { from: 'pending', to: 'pending', audit: 'request.reminded', notify: 'request.reminded' },
  claim: { from: 'pending', to: 'pending', audit: 'request.claimed' },
  release: { from: 'pending', to: 'pending', audit: 'request.released' },
  lapseClaim: { from: 'pending', to: 'pending', audit: 'request.released' },
} as const satisfies Record<string, TransitionSpec>;

export type TransitionName = keyof typeof TRANSITIONS;

/** The request columns every audit event about a request carries. */
export const auditFields = (row: Pick<RequestRecord, 'id' | 'action' | 'resource' | 'environment'>) => ({
  requestId: row.id,
  action: row.action,
  resource: row.resource,
  environment: row.environment,
});

export interface TransitionInput {
  /** Who did it: a user's name, or the hub itself for deadlines. */
  actor: string;
  /** On a decision a delegate (`actor`) made: the approver they decided for, kept beside who decided. */
  decidedFor?: string;
  /** Columns this transition changes besides status, decision and claim. */
  changes?: Omit<RequestChanges, 'version' | 'status'>;
  /** The audit event's outcome; the new status when absent. */
  outcome?: string;
  data: Record<string, unknown>;
}

export interface Transitioned {
  row: RequestRecord;
  event: AuditEvent;
}

/**
 * Applies one transition inside the caller's transaction: the versioned update (a concurrent change
 * makes it lose the race, and the transaction runs again on the fresh row), the request's deadlines
 * and the audit event, together.
 */
export async function transition(ctx: Context, trx: Transaction<Database>, current: RequestRecord, name: TransitionName, input: TransitionInput): Promise<Transitioned> {
  const spec: TransitionSpec = TRANSITIONS[name];
  if (current.status !== spec.from) throw new GreenlightError('ALREADY_DECIDED', `This request is already ${current.status}.`);
  const now = ctx.clock.now().toISOString();
  const final = spec.to !== 'pending';
  const changes: RequestChanges = {
    ...input.changes,
    updated_at: now,
    ...(final ? { status: spec.to, decided_at: now, decided_by: input.actor, decided_for: input.decidedFor ?? null, claim_by: null, claim_until: null } : {}),
  };
  const version = Number(current.version) + 1;
  if (!(await requestStore.updateVersioned(trx, current, changes, version))) throw new LostRace();
  if (final) {
    await closeDeadlines(trx, current.id);
    await releasePendingPlace(trx, current.requester_id, current.rule.name);
  }
  const event = await audit(ctx, trx, { actor: input.actor, type: spec.audit, ...auditFields(current), outcome: input.outcome ?? spec.to, data: input.data });
  const row = { ...current, ...changes, version };
  if (spec.notify) await enqueueNotifications(ctx, trx, spec.notify, row);
  // Chat messages show votes and claims too, so every change rewrites them, not only announced ones.
  await enqueueChatRefresh(ctx, trx, row);
  return { row, event };
}
