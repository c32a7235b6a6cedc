import { sql, type Kysely } from 'kysely';
import { hashEvent } from './audit-events.js';
import { canonicalJson } from './json.js';
import type { AuditEventsTable, ChainHeadTable } from './schema.js';

/** The tables this step reads and writes, as they stood when it was written. */
interface Tables {
  users: { id: string; name: string; oidc_subject: string | null };
  audit_events: AuditEventsTable;
  chain_head: Pick<ChainHeadTable, 'id' | 'seq' | 'hash'>;
}

/** Who ran the step, in the audit log: the hub itself, as for other changes nobody asked for. */
const ACTOR = 'greenlight';

/**
 * Before sign-ins recorded the identity provider's subject they link a user to: each subject a user
 * holds is recorded as found, one `user.updated` event per user (source `upgrade`), so audit verify
 * holds every subject against the log from here on, without a finding for each user an older hub
 * linked. A subject set by hand before the upgrade is recorded too: the log cannot tell it from a
 * sign-in's, and the event says so. Returns the users recorded.
 *
 * On PostgreSQL, older hubs keep running during a rolling upgrade: `db` must be the migration's
 * transaction, and the step first holds the chain head (as every hub's audit append does first, so
 * the lock order is theirs) and then the users table against writes while it reads the subjects.
 */
export async function recordOidcSubjects(db: Kysely<unknown>, now: Date, dialect: 'sqlite' | 'postgres'): Promise<string[]> {
  const typed = db as unknown as Kysely<Tables>;
  let headQuery = typed.selectFrom('chain_head').select(['seq', 'hash']).where('id', '=', 1);
  if (dialect === 'postgres') headQuery = headQuery.forUpdate();
  const head = await headQuery.executeTakeFirstOrThrow();
  if (dialect === 'postgres') await sql`lock table users in share row exclusive mode`.execute(db);
  const linked = await typed.selectFrom('users').select(['name', 'oidc_subject']).where('oidc_subject', 'is not', null).orderBy('name').execute();
  if (linked.length === 0) return [];

  let seq = Number(head.seq);
  let prevHash = head.hash;
  const at = now.toISOString();
  for (const { name, oidc_subject: subject } of linked) {
    seq += 1;
    const data = {
      user: name,
      changes: { oidcSubject: { from: null, to: subject } },
      reason: 'linked to this single sign-on subject before sign-ins recorded it; recorded as the database held it at this upgrade',
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
  await typed.updateTable('chain_head').set({ seq, hash: prevHash }).where('id', '=', 1).execute();
  return linked.map((user) => user.name);
}
