import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { delegationStore, type DelegateContact } from '../store/delegations.js';

type Executor = Kysely<Database> | Transaction<Database>;

export type DelegateRecipient = DelegateContact;

/**
 * The active delegates of these approvers for a request under `rule`, as people a channel can reach.
 * Never the requester, and never a delegate of the requester: neither may decide the request.
 */
export async function delegatesReachedFor(db: Executor, delegatorIds: string[], rule: string, requesterId: string, now: Date): Promise<DelegateRecipient[]> {
  const from = delegatorIds.filter((id) => id !== requesterId);
  if (from.length === 0) return [];
  const reached = new Map<string, DelegateRecipient>();
  for (const { delegation, delegate } of await delegationStore.inForceFrom(db, from, requesterId, now.toISOString())) {
    if (delegation.rules && !delegation.rules.includes(rule)) continue;
    reached.set(delegate.id, delegate);
  }
  return [...reached.values()];
}
