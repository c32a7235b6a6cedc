import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { requestStore, type RequestRecord } from '../../store/requests.js';
import { userStore } from '../../store/users.js';
import { decidesAnything } from '../../../protocol/index.js';
import { SYSTEM_ACTOR_NAME } from '../actor.js';
import type { Context } from '../context.js';
import { approversOf, buildView, viewReader } from '../request-view.js';
import type { AfterCommit } from './after-commit.js';
import { announceUpdated } from './after-commit.js';
import { stepDueAt } from './deadlines.js';
import { transition } from './transition.js';

/**
 * Escalation step `fromStep` (0-based) fell due with the request still pending: its targets join the
 * request's approvers and hear of it as an escalation. A step with nobody who may decide (empty, or
 * only the requester, or only requester-only members) is skipped straight to the next, as an empty
 * on-call tier would be. `early` is for a step applied before its deadline,
 * at submission: why, and the steps passed over to reach it.
 */
export async function escalate(
  ctx: Context,
  trx: Transaction<Database>,
  row: RequestRecord,
  fromStep: number,
  early?: { reason: string; skipped: number[] },
): Promise<AfterCommit> {
  const rule = row.rule;
  const skipped: number[] = [...(early?.skipped ?? [])];
  let step = fromStep;
  let targets = await stepTargets(trx, row, rule.escalation[step]?.notify ?? []);
  while (!targets.reached && step + 1 < rule.escalation.length) {
    skipped.push(step + 1);
    step += 1;
    targets = await stepTargets(trx, row, rule.escalation[step]?.notify ?? []);
  }
  const { reached } = targets;
  const previousApprovers = approversOf(row);
  const previouslyNotified = [...row.eligible_groups, ...row.eligible_users];
  if (!reached) skipped.push(step + 1);
  const groups = [...new Set([...row.eligible_groups, ...targets.groups])];
  const users = [...new Set([...row.eligible_users, ...targets.users])];
  // Later steps' own deadlines find the level past them and do nothing.
  const { row: next } = await transition(ctx, trx, row, 'escalate', {
    actor: SYSTEM_ACTOR_NAME,
    changes: {
      escalation_level: step + 1,
      eligible_groups: groups,
      eligible_users: users,
      // Counted across runs of the chain: after a run's last step comes the next run's first, if `repeat` allows one.
      next_escalation_at: stepDueAt(row, rule, Number(row.escalation_round) * rule.escalation.length + step + 1),
    },
    outcome: reached ? 'escalated' : 'no-one-to-notify',
    data: {
      step: step + 1,
      notified: [...targets.groups, ...targets.users],
      skipped,
      previouslyNotified,
      ...(early ? { reason: early.reason } : {}),
      ...(Number(row.escalation_round) > 0 ? { run: Number(row.escalation_round) + 1 } : {}),
    },
  });
  if (!reached) return announceUpdated(ctx, row.id);
  const newTargets = { groups: targets.groups, users: targets.users };
  return async () => {
    const fresh = await requestStore.existing(ctx.store.db, next.id);
    const request = await buildView(viewReader(ctx), fresh, { id: fresh.requester_id });
    return [{ type: 'request.escalated', request, step: step + 1, previouslyNotified, newTargets, previousApprovers }];
  };
}

/** `repeat`: the chain's last step passed undecided, so it runs again from its first step (run `round`, 0-based). */
export async function repeatEscalation(ctx: Context, trx: Transaction<Database>, row: RequestRecord, round: number): Promise<RequestRecord> {
  const rule = row.rule;
  const { row: next } = await transition(ctx, trx, row, 'repeatEscalation', {
    actor: SYSTEM_ACTOR_NAME,
    changes: { escalation_round: round, escalation_level: 0 },
    outcome: 'repeated',
    data: { run: round + 1, of: (rule.repeat ?? 0) + 1 },
  });
  return next;
}

/**
 * Whom an escalation step names: its groups that have an active member and the active users it
 * names, and whether it reaches anyone who may decide. Someone with only the requester role does
 * not, nor does the requester unless the rule lets them approve: the same test as at submission
 * (approverReach).
 */
async function stepTargets(trx: Transaction<Database>, row: RequestRecord, names: string[]): Promise<{ groups: string[]; users: string[]; reached: boolean }> {
  const people = await userStore.activeReachedBy(trx, names);
  const groups = [...new Set(people.flatMap((person) => (person.group !== null && names.includes(person.group) ? [person.group] : [])))];
  const users = [...new Set(people.filter((person) => names.includes(person.name) && !groups.includes(person.name)).map((person) => person.name))];
  const reached = people.some((person) => decidesAnything(person.roles) && (row.rule.allowSelfApproval || person.id !== row.requester_id));
  return { groups, users, reached };
}
