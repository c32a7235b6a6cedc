import { sql, type Kysely } from 'kysely';
import { hashEvent } from './audit-events.js';
import { canonicalJson } from './json.js';
import type { AuditEventsTable, ChainHeadTable } from './schema.js';

/** The tables this step reads and writes, as they stood when it was written. */
interface Tables {
  users: { id: string; name: string; slack_user_id: string | null };
  audit_events: AuditEventsTable;
  chain_head: Pick<ChainHeadTable, 'id' | 'seq' | 'hash'>;
}

/** Who ran the step, in the audit log: the hub itself, as for other changes nobody asked for. */
const ACTOR = 'greenlight';

/**
 * Before the Slack member id became unique: a member linked to several users is unlinked from all of
 * them. Which of them is that person can't be known from the data (the oldest link may as well be
 * the mistake), and a click decides as someone, so nobody keeps it; each unlinking is an audit event
 * saying why and how to link it again. Returns the members unlinked.
 *
 * On PostgreSQL, older hubs keep running during a rolling upgrade: `db` must be the migration's
 * transaction, and the step first holds the chain head (as every hub's audit append does first, so
 * the lock order is theirs and nobody deadlocks) and then the users table against writes until the
 * unique index is made. Their appends and user changes wait for it instead of taking the seq it is
 * about to use, or linking a shared member again before the index exists.
 */
export async function unlinkSharedSlackMembers(db: Kysely<unknown>, now: Date, dialect: 'sqlite' | 'postgres'): Promise<string[]> {
  const typed = db as unknown as Kysely<Tables>;
  let headQuery = typed.selectFrom('chain_head').select(['seq', 'hash']).where('id', '=', 1);
  if (dialect === 'postgres') headQuery = headQuery.forUpdate();
  const head = await headQuery.executeTakeFirstOrThrow();
  if (dialect === 'postgres') await sql`lock table users in share row exclusive mode`.execute(db);
  const shared = await typed
    .selectFrom('users')
    .select('slack_user_id')
    .where('slack_user_id', 'is not', null)
    .groupBy('slack_user_id')
    .having((eb) => eb.fn.countAll(), '>', 1)
    .orderBy('slack_user_id')
    .execute();
  const members = shared.flatMap((row) => (row.slack_user_id ? [row.slack_user_id] : []));
  if (members.length === 0) return [];

  let seq = Number(head.seq);
  let prevHash = head.hash;
  const at = now.toISOString();
  for (const member of members) {
    const holders = await typed.selectFrom('users').select(['id', 'name']).where('slack_user_id', '=', member).orderBy('name').execute();
    const names = holders.map((holder) => holder.name);
    await typed.updateTable('users').set({ slack_user_id: null }).where('slack_user_id', '=', member).execute();
    for (const holder of holders) {
      seq += 1;
      const data = {
        user: holder.name,
        changes: { slackUserId: { from: member, to: null } },
        reason: `the Slack member ${member} was linked to ${names.join(', ')}; a click from it could not say which of them decided, so it was unlinked from each. Link it again to the one it belongs to (greenlight user set NAME --slack-user ${member}).`,
        source: 'upgrade',
      };
      const partial: Omit<AuditEventsTable, 'hash'> = {
        seq,
        at,
        actor: ACTOR,
        type: 'user.updated',
        request_id: null,
        action: null,
        resource: null,
        environment: null,
        outcome: 'updated',
        data: canonicalJson(data),
        prev_hash: prevHash,
      };
      const row: AuditEventsTable = { ...partial, hash: hashEvent(partial) };
      await typed.insertInto('audit_events').values(row).execute();
      prevHash = row.hash;
    }
  }
  await typed.updateTable('chain_head').set({ seq, hash: prevHash }).where('id', '=', 1).execute();
  return members;
}
