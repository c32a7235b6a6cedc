import type { Kysely, Transaction } from 'kysely';
import { scopesAllowed } from '../identity/scopes.js';
import { decidesAnything, type ActingFor } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { delegationStore, type Delegating, type DelegationRecord } from '../store/delegations.js';
import { userStore, type UserRecord } from '../store/users.js';
import type { RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';
import { isEligibleApprover } from './request-view.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** A delegator or delegate as the rules see a person: what their role allows, no token of theirs involved. */
export function personAsActor(person: Pick<Actor, 'id' | 'name' | 'roles' | 'groups' | 'email'>): Actor {
  return { ...person, service: false, scopes: scopesAllowed(person.roles, false), tokenId: null, tokenKind: null };
}

/** A stored user as the person they are now, their groups read too: whom a rule about deciding is asked of. */
export async function personOf(db: Kysely<Database> | Transaction<Database>, user: UserRecord): Promise<Actor> {
  return personAsActor({ id: user.id, name: user.name, roles: user.roles, groups: await userStore.groupsOf(db, user.id), email: user.email });
}

/** These users as the people they are now (personOf), read together: by id, those not found absent. */
export async function peopleByIds(db: Executor, userIds: string[]): Promise<Map<string, Actor>> {
  const found = await userStore.withGroupsByIds(db, userIds);
  return new Map(found.map(({ user, groups }) => [user.id, personAsActor({ id: user.id, name: user.name, roles: user.roles, groups, email: user.email })]));
}

export interface Delegator {
  delegator: Actor;
  /** Rule names covered; null: every rule. */
  rules: string[] | null;
}

/**
 * Whose approvals this person may give right now: delegations to them in force, from users still
 * active. Only direct delegations count, so what was delegated to someone is never passed on.
 */
export async function activeDelegatorsOf(db: Executor, delegate: Pick<Actor, 'id' | 'roles'>, now: Date): Promise<Delegator[]> {
  // A delegate whose roles decide nothing (made a requester since) stands in for nobody.
  if (!decidesAnything(delegate.roles)) return [];
  return (await delegationStore.inForceTo(db, delegate.id, now.toISOString())).map(asDelegator);
}

/** activeDelegatorsOf for each of these delegates, read together: by delegate id (those standing in for nobody absent). */
export async function activeDelegatorsOfEach(db: Executor, delegates: Pick<Actor, 'id' | 'roles'>[], now: Date): Promise<Map<string, Delegator[]>> {
  const deciding = delegates.filter((delegate) => decidesAnything(delegate.roles)).map((delegate) => delegate.id);
  const found = await delegationStore.inForceToEach(db, deciding, now.toISOString());
  return new Map([...found].map(([id, delegations]) => [id, delegations.map(asDelegator)]));
}

const asDelegator = ({ delegation, delegator }: { delegation: DelegationRecord; delegator: Delegating }): Delegator => ({ delegator: personAsActor(delegator), rules: delegation.rules });

export const coversRule = (delegation: Delegator, rule: string): boolean => delegation.rules === null || delegation.rules.includes(rule);

/** Whether this delegation lets its delegate vote on `request` for the delegator now: it covers the rule, and the delegator may decide it. */
export const standsInOn = (delegation: Delegator, request: RequestRecord): boolean => coversRule(delegation, request.rule.name) && isEligibleApprover(request, delegation.delegator);

/** The delegators whose vote their delegate may cast on `request` now (only `named`, when given): what deciding and claiming both go by. */
export const standInsOn = (delegators: Delegator[], request: RequestRecord, named?: string): Actor[] =>
  delegators.filter((d) => standsInOn(d, request) && (named === undefined || d.delegator.name === named)).map((d) => d.delegator);

/**
 * Whether `person` may decide `request` now: as one of its approvers, or for a delegator they stand
 * in for on it (`named` only, when given). Letting a decision or a claim in, and keeping a claim, go
 * by this; the transaction then re-reads whoever votes.
 */
export const mayDecide = (request: RequestRecord, person: Pick<Actor, 'name' | 'roles' | 'groups'>, delegators: Delegator[], named?: string): boolean =>
  isEligibleApprover(request, person) || standInsOn(delegators, request, named).length > 0;

/** The delegators as "waiting on me" sees them. */
export const actingFor = (delegators: Delegator[]): ActingFor[] =>
  delegators.map(({ delegator, rules }) => ({ name: delegator.name, groups: delegator.groups, roles: delegator.roles, ...(rules ? { rules } : {}) }));
