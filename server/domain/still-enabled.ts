import type { Transaction } from 'kysely';
import { GreenlightError } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { Actor } from './actor.js';
import { userStore } from '../store/users.js';

const checked = new WeakMap<Transaction<Database>, Map<string, Promise<boolean>>>();

/**
 * Whether a person is still enabled, read in the transaction that acts for them. A call
 * authenticated just before its caller was disabled would otherwise write what the disable never
 * saw: a request waiting on approvers for someone who has left, or a vote outliving its voter. The
 * read is once per person per transaction (a group commit mostly carries one requester), and the
 * transaction holds the audit chain's head, which a disable also takes first, so neither can slip
 * between. The read is sent ahead (`readAhead`), so reads started beside it share its round trip.
 */
export function stillEnabled(trx: Transaction<Database>, userId: string): Promise<boolean> {
  let seen = checked.get(trx);
  if (!seen) checked.set(trx, (seen = new Map()));
  let enabled = seen.get(userId);
  if (enabled === undefined) {
    enabled = userStore.isEnabledAhead(trx, userId);
    seen.set(userId, enabled);
  }
  return enabled;
}

export const disabledRequester = () => new GreenlightError('UNAUTHENTICATED', 'Your account has been disabled; nothing was submitted.');

/**
 * A voter as they stand now, read in the transaction that casts the vote: roles and groups an admin
 * (or the identity provider) changed after the call was authenticated count, as a disable does, so a
 * vote never counts for someone already taken out of the group it fills. Null when disabled or gone.
 */
export async function asTheyStandNow(trx: Transaction<Database>, person: Actor): Promise<Actor | null> {
  const user = await userStore.byId(trx, person.id);
  if (!user || user.disabled) return null;
  const groups = (await userStore.groupsOfUsers(trx, [user.id])).get(user.id) ?? [];
  return { ...person, roles: user.roles, groups };
}
