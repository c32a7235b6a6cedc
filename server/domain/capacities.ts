import { decidesFor, type GreenlightRequest, type Viewer } from '../../protocol/index.js';
import type { RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';
import { actingFor, standInsOn, type Delegator } from './deciders.js';
import { isEligibleApprover } from './request-view.js';

/** A person as "waiting on me" sees them: their delegations in force now included. */
export const viewerOf = (person: Pick<Actor, 'name' | 'groups' | 'roles'>, delegators: Delegator[]): Viewer => ({
  name: person.name,
  groups: person.groups,
  roles: person.roles,
  ...(delegators.length ? { actingFor: actingFor(delegators) } : {}),
});

/**
 * Whom `person` may decide `request` for now, their own name first: the console's rule (decidesFor),
 * so email, Slack and the console offer the same choices, only those whose vote would still count.
 */
export const capacitiesOn = (request: GreenlightRequest, person: Pick<Actor, 'name' | 'groups' | 'roles'>, delegators: Delegator[]): string[] =>
  decidesFor(request, viewerOf(person, delegators));

/**
 * Whom a vote that names nobody is counted for, as decideRequest settles it: the person, when they
 * are an approver of the request, else the earliest delegation that can vote on it; null: nobody.
 */
export const unnamedVoteFor = (row: RequestRecord, person: Pick<Actor, 'name' | 'groups' | 'roles'>, delegators: Delegator[]): string | null =>
  isEligibleApprover(row, person) ? person.name : (standInsOn(delegators, row)[0]?.name ?? null);

/**
 * Whom a link or button must name for a vote to count where `capacities` (capacitiesOn) says it may:
 * nobody (an unnamed vote already counts there) when there is exactly one capacity and an unnamed
 * vote lands on it; otherwise every capacity, one choice each.
 */
export const choicesToName = (capacities: string[], unnamed: string | null): string[] => (capacities.length === 1 && capacities[0] === unnamed ? [] : capacities);
