import type { Transaction } from 'kysely';
import { GreenlightError } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
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
