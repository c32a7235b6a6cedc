import type { Kysely, Transaction } from 'kysely';
import { GreenlightError } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { Actor } from './actor.js';
import { decodeRoles, userStore } from '../store/users.js';

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
 * A voter as they stand now, read in the transaction that casts the vote (or straight from the
 * database, for a vote only asked about): roles and groups an admin (or the identity provider)
 * changed after the call was authenticated count, as a disable does, so a vote never counts for
 * someone already taken out of the group it fills. Null when disabled or gone.
 */
export async function asTheyStandNow(trx: Kysely<Database> | Transaction<Database>, person: Actor): Promise<Actor | null> {
  // One read (a round trip on PostgreSQL, taken while the audit chain's head is held when a vote is cast): the user and their groups together.
  const rows = await trx
    .selectFrom('users')
    .leftJoin('user_groups', 'user_groups.user_id', 'users.id')
    .select(['users.roles', 'users.disabled', 'user_groups.group_name'])
    .where('users.id', '=', person.id)
    .execute();
  const [first] = rows;
  if (!first || first.disabled !== 0) return null;
  const groups = rows.flatMap((row) => (row.group_name === null ? [] : [row.group_name]));
  return { ...person, roles: decodeRoles(first.roles), groups };
}
