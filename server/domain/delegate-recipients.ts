import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface DelegateRecipient {
  id: string;
  name: string;
  email: string | null;
  slackUserId: string | null;
}

/**
 * The active delegates of these approvers for a request under `rule`, as people a channel can reach.
 * Never the requester, and never a delegate of the requester: neither may decide the request.
 */
export async function delegatesReachedFor(db: Executor, delegatorIds: string[], rule: string, requesterId: string, now: Date): Promise<DelegateRecipient[]> {
  const from = delegatorIds.filter((id) => id !== requesterId);
  if (from.length === 0) return [];
  const iso = now.toISOString();
  const rows = await db
    .selectFrom('delegations')
    .innerJoin('users', 'users.id', 'delegations.to_id')
    .select(['users.id', 'users.name', 'users.email', 'users.slack_user_id', 'delegations.rules'])
    .where('delegations.from_id', 'in', from)
    .where('delegations.to_id', '!=', requesterId)
    .where('delegations.ended_at', 'is', null)
    .where('delegations.starts_at', '<=', iso)
    .where('delegations.ends_at', '>', iso)
    .where('users.disabled', '=', 0)
    .execute();
  const reached = new Map<string, DelegateRecipient>();
  for (const row of rows) {
    const rules = row.rules ? (JSON.parse(row.rules) as string[]) : null;
    if (rules && !rules.includes(rule)) continue;
    reached.set(row.id, { id: row.id, name: row.name, email: row.email, slackUserId: row.slack_user_id });
  }
  return [...reached.values()];
}
