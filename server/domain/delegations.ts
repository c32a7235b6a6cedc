import type { Kysely, Transaction } from 'kysely';
import { scopesAllowed } from '../identity/scopes.js';
import {
  GreenlightError,
  MAX_DELEGATION_DAYS,
  newDelegationSchema,
  parseOrThrow,
  type ActingFor,
  type Delegation,
  type Role,
} from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { Database, DelegationsTable } from '../store/schema.js';
import { isAdmin, type Actor } from './actor.js';
import { audit, inTransaction, type Context } from './context.js';

type Executor = Kysely<Database> | Transaction<Database>;

const DAY_MS = 86_400_000;

const isActive = (row: DelegationsTable, now: string): boolean => row.ended_at === null && row.starts_at <= now && now < row.ends_at;

export function toDelegation(row: DelegationsTable, now: string): Delegation {
  return {
    id: row.id,
    from: row.from_name,
    to: row.to_name,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    rules: row.rules ? (JSON.parse(row.rules) as string[]) : null,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
    active: isActive(row, now),
  };
}

async function activeUser(db: Executor, name: string, field: string): Promise<Actor> {
  const row = await db.selectFrom('users').select(['id', 'name', 'roles', 'email', 'disabled']).where('name', '=', name).executeTakeFirst();
  if (!row || row.disabled === 1) throw new GreenlightError('INVALID_INPUT', `Invalid delegation: ${field}: no active user "${name}".`);
  const groups = await db.selectFrom('user_groups').select('group_name').where('user_id', '=', row.id).execute();
  return personAsActor({ id: row.id, name: row.name, roles: JSON.parse(row.roles) as Role[], groups: groups.map((g) => g.group_name), email: row.email ?? null });
}

/** A delegator or delegate as the rules see a person: what their role allows, no token of theirs involved. */
function personAsActor(person: Pick<Actor, 'id' | 'name' | 'roles' | 'groups' | 'email'>): Actor {
  return { ...person, service: false, scopes: scopesAllowed(person.roles, false), tokenId: null, tokenKind: null };
}

const mayDecide = (actor: Actor): boolean => actor.roles.some((role) => role !== 'requester');

/** An approver hands their approvals to one user for a window (an admin may do it for anyone). */
export async function createDelegation(ctx: Context, actor: Actor, input: unknown): Promise<Delegation> {
  const parsed = parseOrThrow(newDelegationSchema, input, 'delegation');
  const fromName = parsed.from ?? actor.name;
  if (fromName !== actor.name && !isAdmin(actor)) throw new GreenlightError('FORBIDDEN', 'Only an admin can delegate someone else’s approvals; leave out "from" to delegate your own.');
  if (parsed.to === fromName) throw new GreenlightError('INVALID_INPUT', 'Invalid delegation: to: you cannot delegate to yourself; name the person who decides while you are away.');
  const now = ctx.clock.now();
  const startsAt = new Date(parsed.startsAt ?? now.toISOString());
  const endsAt = new Date(parsed.endsAt);
  if (endsAt <= startsAt) throw new GreenlightError('INVALID_INPUT', 'Invalid delegation: endsAt: must come after startsAt.');
  if (endsAt.getTime() <= now.getTime()) throw new GreenlightError('INVALID_INPUT', 'Invalid delegation: endsAt: is already past.');
  if (endsAt.getTime() > now.getTime() + MAX_DELEGATION_DAYS * DAY_MS) {
    throw new GreenlightError('INVALID_INPUT', `Invalid delegation: endsAt: at most ${MAX_DELEGATION_DAYS} days ahead; create another when it runs out.`);
  }
  const iso = now.toISOString();
  const row = await inTransaction(ctx, async (trx) => {
    const from = await activeUser(trx, fromName, 'from');
    const to = await activeUser(trx, parsed.to, 'to');
    if (!mayDecide(from)) throw new GreenlightError('INVALID_INPUT', `Invalid delegation: from: ${from.name} approves nothing, so there is nothing to delegate.`);
    const created: DelegationsTable = {
      id: newId('dlg', now),
      from_id: from.id,
      from_name: from.name,
      to_id: to.id,
      to_name: to.name,
      starts_at: startsAt.toISOString(),
      ends_at: endsAt.toISOString(),
      rules: parsed.rules ? JSON.stringify(parsed.rules) : null,
      reason: parsed.reason,
      created_by: actor.name,
      created_at: iso,
      ended_at: null,
      ended_by: null,
    };
    await trx.insertInto('delegations').values(created).execute();
    await audit(ctx, trx, {
      actor: actor.name,
      type: 'delegation.created',
      outcome: 'created',
      data: { delegation: created.id, from: from.name, to: to.name, startsAt: created.starts_at, endsAt: created.ends_at, rules: parsed.rules ?? null, reason: parsed.reason },
    });
    return created;
  });
  return toDelegation(row, iso);
}

/** Mine (from me or to me), newest first; an admin sees everyone's. */
export async function listDelegations(ctx: Context, actor: Actor): Promise<Delegation[]> {
  let select = ctx.store.db.selectFrom('delegations').selectAll();
  if (!isAdmin(actor)) select = select.where((eb) => eb.or([eb('from_id', '=', actor.id), eb('to_id', '=', actor.id)]));
  const rows = await select.orderBy('created_at', 'desc').limit(500).execute();
  const now = ctx.clock.now().toISOString();
  return rows.map((row) => toDelegation(row, now));
}

/** Ends a delegation at once: its delegator, its delegate or an admin may. */
export async function endDelegation(ctx: Context, actor: Actor, id: string): Promise<Delegation> {
  const now = ctx.clock.now().toISOString();
  const row = await inTransaction(ctx, async (trx) => {
    const current = await trx.selectFrom('delegations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current || (current.from_id !== actor.id && current.to_id !== actor.id && !isAdmin(actor))) throw new GreenlightError('NOT_FOUND', `No delegation ${id}.`);
    if (current.ended_at !== null || current.ends_at <= now) return current;
    const ended = { ...current, ended_at: now, ended_by: actor.name };
    await trx.updateTable('delegations').set({ ended_at: now, ended_by: actor.name }).where('id', '=', id).execute();
    await audit(ctx, trx, { actor: actor.name, type: 'delegation.ended', outcome: 'ended', data: { delegation: id, from: current.from_name, to: current.to_name } });
    return ended;
  });
  return toDelegation(row, now);
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
export async function activeDelegatorsOf(db: Executor, delegateId: string, now: Date): Promise<Delegator[]> {
  const iso = now.toISOString();
  const rows = await db
    .selectFrom('delegations')
    .innerJoin('users', 'users.id', 'delegations.from_id')
    .select(['delegations.from_id', 'delegations.rules', 'users.name', 'users.roles', 'users.email'])
    .where('delegations.to_id', '=', delegateId)
    .where('delegations.ended_at', 'is', null)
    .where('delegations.starts_at', '<=', iso)
    .where('delegations.ends_at', '>', iso)
    .where('users.disabled', '=', 0)
    .orderBy('delegations.created_at')
    .execute();
  if (rows.length === 0) return [];
  const groups = await db.selectFrom('user_groups').select(['user_id', 'group_name']).where('user_id', 'in', rows.map((row) => row.from_id)).execute();
  return rows.map((row) => ({
    delegator: personAsActor({
      id: row.from_id,
      name: row.name,
      roles: JSON.parse(row.roles) as Role[],
      groups: groups.filter((g) => g.user_id === row.from_id).map((g) => g.group_name),
      email: row.email ?? null,
    }),
    rules: row.rules ? (JSON.parse(row.rules) as string[]) : null,
  }));
}

export const coversRule = (delegation: Delegator, rule: string): boolean => delegation.rules === null || delegation.rules.includes(rule);

/** The delegators as "waiting on me" sees them. */
export const actingFor = (delegators: Delegator[]): ActingFor[] =>
  delegators.map(({ delegator, rules }) => ({ name: delegator.name, groups: delegator.groups, roles: delegator.roles, ...(rules ? { rules } : {}) }));
