import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { delegationStore } from '../../store/delegations.js';
import type { RequestRecord } from '../../store/requests.js';
import { userStore } from '../../store/users.js';
import { SYSTEM_ACTOR_NAME } from '../actor.js';
import { audit, type Context } from '../context.js';
import { personOf, standsInOn } from '../deciders.js';
import type { ChangedRequest } from './after-commit.js';
import { delegationEndedWhy, releaseUnbackedClaims } from './unbacked-claims.js';

/**
 * A delegation's window is over (its `delegation_end` deadline fired): inside the deadline's transaction,
 * writes its `delegation.expired` audit event, whether or not it released anything, then releases the
 * claims its delegate holds that it could have backed (its delegator may decide the request, and it
 * covers the rule) and nothing else backs now, as ending it early does. A claim made for another
 * delegator is left to that delegation's own end, which names the right one. One ended early was
 * audited, and released them, then. Returns the requests changed, to announce once committed.
 */
export async function runOutDelegation(ctx: Context, trx: Transaction<Database>, delegationId: string): Promise<ChangedRequest[]> {
  const delegation = await delegationStore.byId(trx, delegationId);
  if (!delegation || delegation.endedAt !== null) return [];
  // Fired late (the hub was down), the event is written when it is applied: `endsAt` says when it ran out.
  await audit(ctx, trx, {
    actor: SYSTEM_ACTOR_NAME,
    type: 'delegation.expired',
    outcome: 'expired',
    data: { delegation: delegation.id, from: delegation.fromName, to: delegation.toName, endsAt: delegation.endsAt },
  });
  const delegator = await userStore.byId(trx, delegation.fromId);
  if (!delegator) return [];
  const ran = { delegator: await personOf(trx, delegator), rules: delegation.rules };
  // A delegate never decides for the requester on their own request, so this delegation backed none there.
  const couldHaveBacked = (request: RequestRecord) => request.requester_id !== delegation.fromId && standsInOn(ran, request);
  return releaseUnbackedClaims(ctx, trx, delegation.toName, SYSTEM_ACTOR_NAME, delegationEndedWhy(delegation, 'ran out'), couldHaveBacked);
}
