import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { delegationStore, type DelegationRecord } from '../../store/delegations.js';
import { requestStore, type RequestRecord } from '../../store/requests.js';
import { userStore } from '../../store/users.js';
import { SYSTEM_ACTOR_NAME } from '../actor.js';
import type { Context } from '../context.js';
import { activeDelegatorsOf, mayDecide, personOf, standsInOn } from '../deciders.js';
import { changedRequest, type ChangedRequest } from './after-commit.js';
import { endClaim } from './claims.js';

/**
 * Inside the caller's transaction: releases the claims `claimer` holds on requests still waiting that
 * they could no longer decide, as they stand in it (roles, groups, delegations in force); only those
 * on requests `among` picks, when given. A claim backs a decision to come; one nobody can give would
 * hold escalation back, and others from claiming, until it lapsed. Returns the requests changed, to
 * announce once committed, the claimer included: the request may no longer concern them, yet their
 * app shows it as claimed by them.
 */
export async function releaseUnbackedClaims(
  ctx: Context,
  trx: Transaction<Database>,
  claimer: string,
  by: string,
  why: string,
  among: (request: RequestRecord) => boolean = () => true,
): Promise<ChangedRequest[]> {
  const claimed = (await requestStore.pendingClaimedBy(trx, claimer)).filter(among);
  if (claimed.length === 0) return [];
  const user = await userStore.byName(trx, claimer);
  const person = user && !user.disabled ? await personOf(trx, user) : null;
  const delegators = person ? await activeDelegatorsOf(trx, person, ctx.clock.now()) : [];
  const released: ChangedRequest[] = [];
  for (const request of claimed) {
    // Standing in for the requester backs nothing: a delegate never decides for them on their own request.
    if (person && mayDecide(request, person, delegators.filter((d) => d.delegator.id !== request.requester_id))) continue;
    await endClaim(ctx, trx, request, by, why);
    released.push(changedRequest(request.id, [claimer]));
  }
  return released;
}

/** Why a delegate's claims went with a delegation: ended early by someone, or its window ran out. */
export const delegationEndedWhy = (delegation: Pick<DelegationRecord, 'fromName' | 'toName'>, how: 'ended' | 'ran out'): string =>
  `the delegation from ${delegation.fromName} to ${delegation.toName} ${how}: ${delegation.toName} can no longer decide it for ${delegation.fromName}`;

/**
 * A delegation's window is over (its `delegation_end` deadline fired): inside the caller's transaction,
 * releases the claims its delegate holds that it could have backed (its delegator may decide the
 * request, and it covers the rule) and nothing else backs now, as ending it early does. A claim made
 * for another delegator is left to that delegation's own end, which names the right one. One ended
 * early released them then. Returns the requests changed, to announce once committed.
 */
export async function releaseClaimsAtDelegationEnd(ctx: Context, trx: Transaction<Database>, delegationId: string): Promise<ChangedRequest[]> {
  const delegation = await delegationStore.byId(trx, delegationId);
  if (!delegation || delegation.endedAt !== null) return [];
  const delegator = await userStore.byId(trx, delegation.fromId);
  if (!delegator) return [];
  const ran = { delegator: await personOf(trx, delegator), rules: delegation.rules };
  // A delegate never decides for the requester on their own request, so this delegation backed none there.
  const couldHaveBacked = (request: RequestRecord) => request.requester_id !== delegation.fromId && standsInOn(ran, request);
  return releaseUnbackedClaims(ctx, trx, delegation.toName, SYSTEM_ACTOR_NAME, delegationEndedWhy(delegation, 'ran out'), couldHaveBacked);
}

/**
 * Those who stand in for `delegatorId` now or later (delegations not ended or over), by name, as
 * claims are held: whose claims a change to the delegator may leave unbacked. A delegation that
 * runs out releases its delegate's claims at its end (`releaseClaimsAtDelegationEnd`).
 */
export async function delegatesOf(trx: Transaction<Database>, delegatorId: string, now: Date): Promise<string[]> {
  return [...new Set((await delegationStore.notOverOf(trx, delegatorId, now.toISOString())).filter((d) => d.fromId === delegatorId).map((d) => d.toName))];
}
