import type { Transaction } from 'kysely';
import { GreenlightError } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { userStore } from '../store/users.js';

const checked = new WeakMap<Transaction<Database>, Map<string, boolean>>();

/**
 * Whether a person is still enabled, read in the transaction that acts for them. A call
 * authenticated just before its caller was disabled would otherwise write what the disable never
 * saw: a request waiting on approvers for someone who has left, or a vote outliving its voter. The
 * read is once per person per transaction (a group commit mostly carries one requester), and the
 * transaction holds the audit chain's head, which a disable also takes first, so neither can slip
 * between.
 */
export async function stillEnabled(trx: Transaction<Database>, userId: string): Promise<boolean> {
  let seen = checked.get(trx);
  if (!seen) checked.set(trx, (seen = new Map()));
  let enabled = seen.get(userId);
  if (enabled === undefined) {
    enabled = (await userStore.byId(trx, userId))?.disabled === false;
    seen.set(userId, enabled);
  }
  return enabled;
}

export const disabledRequester = () => new GreenlightError('UNAUTHENTICATED', 'Your account has been disabled; nothing was submitted.');
