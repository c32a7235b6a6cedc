import type { Kysely, Transaction } from 'kysely';
import {
  GreenlightError,
  MAX_DELEGATION_DAYS,
  decidesAnything,
  newDelegationSchema,
  parseOrThrow,
  type Delegation,
  type Role,
} from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { Database } from '../store/schema.js';
import { delegationStore, type DelegationRecord } from '../store/delegations.js';
import { deadlineStore } from '../store/deadlines.js';
import { userStore } from '../store/users.js';
import { actsAsAdmin, type Actor } from './actor.js';
import { personOf } from './deciders.js';
import { delegationEndedWhy, releaseUnbackedClaims } from './lifecycle/unbacked-claims.js';
import { scheduleDelegationEnd } from './lifecycle/deadlines.js';
import { announceChanged, type ChangedRequest } from './lifecycle/after-commit.js';
import { audit, inTransaction, type Context } from './context.js';

type Executor = Kysely<Database> | Transaction<Database>;

const DAY_MS = 86_400_000;

const isActive = (delegation: DelegationRecord, now: string): boolean => delegation.endedAt === null && delegation.startsAt <= now && now < delegation.endsAt;

export function toDelegation(delegation: DelegationRecord, now: string): Delegation {
  return {
    id: delegation.id,
    from: delegation.fromName,
    to: delegation.toName,
    startsAt: delegation.startsAt,
    endsAt: delegation.endsAt,
    rules: delegation.rules,
    reason: delegation.reason,
    createdBy: delegation.createdBy,
    createdAt: delegation.createdAt,
    endedAt: delegation.endedAt,
    endedBy: delegation.endedBy,
    active: isActive(delegation, now),
  };
}

async function activeUser(db: Executor, name: string, field: string): Promise<Actor> {
  const user = await userStore.byName(db, name);
  if (!user || user.disabled) throw new GreenlightError('INVALID_INPUT', `Invalid delegation: ${field}: no active user "${name}".`);
  return personOf(db, user);
}

/** An approver hands their approvals to one user for a window (an admin may do it for anyone). */
export async function createDelegation(ctx: Context, actor: Actor, input: unknown): Promise<Delegation> {
  const parsed = parseOrThrow(newDelegationSchema, input, 'delegation');
  const fromName = parsed.from ?? actor.name;
  if (fromName !== actor.name && !actsAsAdmin(actor)) throw new GreenlightError('FORBIDDEN', 'Only an admin can delegate someone else’s approvals; leave out "from" to delegate your own.');
  if (parsed.to === fromName) throw new GreenlightError('INVALID_INPUT', 'Invalid delegation: to: you cannot delegate to yourself; name the person who decides while you are away.');
  const now = ctx.clock.now();
  const startsAt = new Date(parsed.startsAt ?? now.toISOString());
  const endsAt = new Date(parsed.endsAt);
  if (endsAt <= startsAt) throw new GreenlightError('INVALID_INPUT', 'Invalid delegation: endsAt: must come after startsAt.');
  if (endsAt.getTime() <= now.getTime()) throw new GreenlightError('INVALID_INPUT', 'Invalid delegation: endsAt: is already past.');
  if (endsAt.getTime() > now.getTime() + MAX_DELEGATION_DAYS * DAY_MS) {
    throw new GreenlightError('INVALID_INPUT', `Invalid delegation: endsAt: at most ${MAX_DELEGATION_DAYS} days ahead; create another when it runs out.`);
  }
  const known = new Set(ctx.policy.current().rules.map((rule) => rule.name));
  const unknown = (parsed.rules ?? []).filter((rule) => !known.has(rule));
  if (unknown.length > 0) {
    throw new GreenlightError('INVALID_INPUT', `Invalid delegation: rules: no rule is named ${unknown.map((rule) => `"${rule}"`).join(', ')}; the policy's rules are ${[...known].map((rule) => `"${rule}"`).join(', ') || 'none'}.`);
  }
  const iso = now.toISOString();
  const row = await inTransaction(ctx, async (trx) => {
    const from = await activeUser(trx, fromName, 'from');
    const to = await activeUser(trx, parsed.to, 'to');
    if (!decidesAnything(from.roles)) throw new GreenlightError('INVALID_INPUT', `Invalid delegation: from: ${from.name} approves nothing, so there is nothing to delegate.`);
    if (!decidesAnything(to.roles)) {
      throw new GreenlightError('INVALID_INPUT', `Invalid delegation: to: ${to.name} is a requester only and decides nothing, so cannot decide for ${from.name}; name an approver, lead or admin (or ask an admin to make ${to.name} one).`);
    }
    const created: DelegationRecord = {
      id: newId('dlg', now),
      fromId: from.id,
      fromName: from.name,
      toId: to.id,
      toName: to.name,
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      rules: parsed.rules ?? null,
      reason: parsed.reason,
      createdBy: actor.name,
      createdAt: iso,
      endedAt: null,
      endedBy: null,
    };
    await delegationStore.insert(trx, created);
    await scheduleDelegationEnd(trx, created, now);
    ctx.deadlineWritten(created.endsAt);
    await audit(ctx, trx, {
      actor: actor.name,
      type: 'delegation.created',
      outcome: 'created',
      data: { delegation: created.id, from: from.name, to: to.name, startsAt: created.startsAt, endsAt: created.endsAt, rules: parsed.rules ?? null, reason: parsed.reason },
    });
    return created;
  });
  return toDelegation(row, iso);
}

/** Mine (from me or to me), newest first; an admin sees everyone's. */
export async function listDelegations(ctx: Context, actor: Actor): Promise<Delegation[]> {
  const rows = await delegationStore.list(ctx.store.db, actsAsAdmin(actor) ? null : actor.id, 500);
  const now = ctx.clock.now().toISOString();
  return rows.map((row) => toDelegation(row, now));
}

/** Ends a delegation at once: its delegator, its delegate or an admin may. */
export async function endDelegation(ctx: Context, actor: Actor, id: string): Promise<Delegation> {
  const now = ctx.clock.now().toISOString();
  let released: ChangedRequest[] = [];
  const row = await inTransaction(ctx, async (trx) => {
    const current = await delegationStore.byId(trx, id);
    if (!current || (current.fromId !== actor.id && current.toId !== actor.id && !actsAsAdmin(actor))) throw new GreenlightError('NOT_FOUND', `No delegation ${id}.`);
    if (current.endedAt !== null || current.endsAt <= now) return current;
    const ended = { ...current, endedAt: now, endedBy: actor.name };
    // Someone else may have ended it meanwhile: theirs stands, and only one end is audited.
    if (!(await delegationStore.end(trx, id, now, actor.name))) return (await delegationStore.byId(trx, id)) ?? current;
    await deadlineStore.closeOfDelegation(trx, id);
    await audit(ctx, trx, { actor: actor.name, type: 'delegation.ended', outcome: 'ended', data: { delegation: id, from: current.fromName, to: current.toName } });
    released = await releaseUnbackedClaims(ctx, trx, current.toName, actor.name, delegationEndedWhy(current, 'ended'));
    return ended;
  });
  await announceChanged(ctx, released);
  return toDelegation(row, now);
}

/**
 * Ends, in the caller's transaction, every delegation from or to a user who no longer decides (made a
 * requester, or disabled): it would let nobody decide anything, yet still list as active and still be
 * there if they were made an approver again. Each end is audited with why.
 */
export async function endDelegationsOfNonDecider(ctx: Context, trx: Transaction<Database>, user: { id: string; name: string; roles: readonly Role[]; disabled: boolean }, by: string): Promise<number> {
  if (!user.disabled && decidesAnything(user.roles)) return 0;
  const now = ctx.clock.now().toISOString();
  const why = user.disabled ? `${user.name} was disabled` : `${user.name} no longer decides anything`;
  let ended = 0;
  for (const delegation of await delegationStore.notOverOf(trx, user.id, now)) {
    if (!(await delegationStore.end(trx, delegation.id, now, by))) continue;
    await deadlineStore.closeOfDelegation(trx, delegation.id);
    await audit(ctx, trx, { actor: by, type: 'delegation.ended', outcome: 'ended', data: { delegation: delegation.id, from: delegation.fromName, to: delegation.toName, why } });
    ended += 1;
  }
  return ended;
}
