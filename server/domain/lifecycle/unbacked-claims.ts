import type { Transaction } from 'kysely';
import type { Database } from '../../store/schema.js';
import { delegationStore, type DelegationRecord } from '../../store/delegations.js';
import { requestStore, type RequestRecord } from '../../store/requests.js';
import { userStore } from '../../store/users.js';
import type { Context } from '../context.js';
import { activeDelegatorsOf, mayDecide, personOf } from '../deciders.js';
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
 * Those who stand in for `delegatorId` now or later (delegations not ended or over), by name, as
 * claims are held: whose claims a change to the delegator may leave unbacked. A delegation that
 * runs out releases its delegate's claims at its end (`runOutDelegation`).
 */
export async function delegatesOf(trx: Transaction<Database>, delegatorId: string, now: Date): Promise<string[]> {
  return [...new Set((await delegationStore.notOverOf(trx, delegatorId, now.toISOString())).filter((d) => d.fromId === delegatorId).map((d) => d.toName))];
}
