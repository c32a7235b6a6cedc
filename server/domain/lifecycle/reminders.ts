import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { requestStore, type RequestRecord } from '../../store/requests.js';
import type { RequestDeadline } from '../../store/deadlines.js';
import { decisionStore } from '../../store/decisions.js';
import { SYSTEM_ACTOR_NAME } from '../actor.js';
import type { Context } from '../context.js';
import { approversOf, buildView, viewReader } from '../request-view.js';
import type { AfterCommit } from './after-commit.js';
import { addDeadline } from './deadlines.js';
import { transition } from './transition.js';

const addSeconds = (ms: number, seconds: number) => new Date(ms + seconds * 1000).toISOString();

/**
 * `remind`: a reminder fell due with the request still pending. Approvers who have not acted hear of
 * it again (app and the rule's channels), and the next reminder is written one interval on. A reminder
 * missed while the hub was down fires once, and the next counts from now. While someone holds a claim
 * the reminder is skipped: they said they are looking at it.
 */
export async function remind(ctx: Context, trx: Transaction<Database>, row: RequestRecord, deadline: RequestDeadline): Promise<AfterCommit | undefined> {
  const every = row.rule.remindSeconds;
  if (!every) return undefined;
  const now = ctx.clock.now();
  const due = Date.parse(deadline.dueAt);
  const nextDue = addSeconds(due + every * 1000 > now.getTime() ? due : now.getTime(), every);
  const number = deadline.step ?? 1;
  const claimed = row.claim_by && row.claim_until && row.claim_until > now.toISOString();
  await addDeadline(trx, { kind: 'reminder', requestId: row.id, grantJti: null, step: claimed ? number : number + 1, dueAt: nextDue }, now);
  ctx.deadlineWritten(nextDue);
  if (claimed) return undefined;
  const voters = await decisionStore.approverNamesOf(trx, row.id);
  const { row: next } = await transition(ctx, trx, row, 'remind', {
    actor: SYSTEM_ACTOR_NAME,
    outcome: 'reminded',
    data: { reminder: number, notified: [...row.eligible_groups, ...row.eligible_users], voted: voters },
  });
  return async () => {
    const fresh = await requestStore.existing(ctx.store.db, next.id);
    const request = await buildView(viewReader(ctx), fresh, { id: fresh.requester_id });
    return [{ type: 'request.reminded', request, reminder: number, approvers: approversOf(fresh) }];
  };
}
