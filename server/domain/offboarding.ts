import type { Transaction } from 'kysely';
import type { Role } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { requestStore } from '../store/requests.js';
import { userStore } from '../store/users.js';
import { audit, type Context } from './context.js';
import { endDelegationsOfNonDecider } from './delegations.js';
import { revokeGrantsOf } from './grants.js';
import { announceUpdated } from './lifecycle/after-commit.js';
import { transition } from './lifecycle/transition.js';

export interface Offboarded {
  userId: string;
  /** Requests cancelled or whose grants were revoked, to announce once committed. */
  changed: string[];
}

/**
 * Disables a user, by an admin or by the identity provider, inside the caller's transaction. A
 * disabled user keeps no access: their delegations end, their requests still waiting are cancelled
 * and their grants still active (started or scheduled) are revoked, each audited with why. Enabling
 * them again brings none of it back; they ask anew.
 */
export async function disableIn(ctx: Context, trx: Transaction<Database>, user: { id: string; name: string; roles: Role[] }, by: string, data: Record<string, unknown> = {}): Promise<Offboarded> {
  await userStore.update(trx, user.id, { disabled: true });
  await audit(ctx, trx, { actor: by, type: 'user.disabled', outcome: 'disabled', data: { user: user.name, ...data } });
  await endDelegationsOfNonDecider(ctx, trx, { ...user, disabled: true }, by);
  const why = `${user.name} was disabled`;
  const changed: string[] = [];
  for (const request of await requestStore.pendingOf(trx, user.id)) {
    await transition(ctx, trx, request, 'cancel', { actor: by, data: { reason: why, byAdmin: true } });
    changed.push(request.id);
  }
  changed.push(...(await revokeGrantsOf(ctx, trx, user.id, by, why)));
  return { userId: user.id, changed: [...new Set(changed)] };
}

/** After commit: the user's cached identity, delegations and sockets go, and everyone concerned sees the requests that changed. */
export async function announceDisabled(ctx: Context, offboarded: Offboarded): Promise<void> {
  ctx.actors?.forgetUser(offboarded.userId);
  // Their delegations ended: pushes stop reaching their delegates, or reaching them as a delegate.
  await ctx.delegates?.refresh();
  ctx.bus.emit({ type: 'user.disabled', userId: offboarded.userId });
  for (const id of offboarded.changed) for (const event of await announceUpdated(ctx, id)()) ctx.bus.emit(event);
}
