import type { Kysely, Transaction } from 'kysely';
import { decodeOneOf, decodeStringList } from './json.js';
import type { Database, DecisionsTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export type Verdict = 'approve' | 'deny';

/** A vote as the hub works with it: the verdict one of the two, the quorum lines it counts toward a list. */
export interface DecisionRecord {
  requestId: string;
  /** Whose vote it is (the delegator when a delegate cast it). */
  approverId: string;
  approverName: string;
  decision: Verdict;
  comment: string | null;
  createdAt: string;
  /** The rule's `require:` lines the vote counts toward; null under a plain `minApprovals` rule. */
  lines: string[] | null;
  /** The delegate who cast it on the approver's behalf. */
  delegateId: string | null;
  delegateName: string | null;
}

/** A verdict the hub never writes is a damaged database, and says so. */
export const decodeVerdict = decodeOneOf<Verdict>(['approve', 'deny'], 'decision');

/** The `lines` column holds a JSON list of line names. */
export function decodeLines(text: string | null): string[] | null {
  return text === null ? null : decodeStringList(text, 'decision lines', 'names');
}

export function toDecisionRecord(row: DecisionsTable): DecisionRecord {
  return {
    requestId: row.request_id,
    approverId: row.approver_id,
    approverName: row.approver_name,
    decision: decodeVerdict(row.decision),
    comment: row.comment,
    createdAt: row.created_at,
    lines: decodeLines(row.lines),
    delegateId: row.delegate_id,
    delegateName: row.delegate_name,
  };
}

/** The votes on requests (table `decisions`): records in, records out. */
export const decisionStore = {
  async insert(db: Executor, vote: DecisionRecord): Promise<void> {
    await db
      .insertInto('decisions')
      .values({
        request_id: vote.requestId,
        approver_id: vote.approverId,
        approver_name: vote.approverName,
        decision: vote.decision,
        comment: vote.comment,
        created_at: vote.createdAt,
        lines: vote.lines ? JSON.stringify(vote.lines) : null,
        delegate_id: vote.delegateId,
        delegate_name: vote.delegateName,
      })
      .execute();
  },

  /** A request's votes, oldest first. */
  async ofRequest(db: Executor, requestId: string): Promise<DecisionRecord[]> {
    return (await db.selectFrom('decisions').selectAll().where('request_id', '=', requestId).orderBy('created_at').execute()).map(toDecisionRecord);
  },

  /** The votes on these requests, oldest first, in one query (keep the list inside the databases' bound-parameter limits). */
  async ofRequests(db: Executor, requestIds: string[]): Promise<DecisionRecord[]> {
    return (await db.selectFrom('decisions').selectAll().where('request_id', 'in', requestIds).orderBy('created_at').execute()).map(toDecisionRecord);
  },

  /** What quorum counts of a request's votes. */
  async tallyOf(db: Executor, requestId: string): Promise<Pick<DecisionRecord, 'approverName' | 'decision' | 'lines'>[]> {
    const rows = await db.selectFrom('decisions').select(['approver_name', 'decision', 'lines']).where('request_id', '=', requestId).execute();
    return rows.map((row) => ({ approverName: row.approver_name, decision: decodeVerdict(row.decision), lines: decodeLines(row.lines) }));
  },

  /** A vote this person cast on the request, as themselves or for someone. */
  async castBy(db: Executor, requestId: string, personId: string): Promise<Pick<DecisionRecord, 'approverName' | 'decision'> | undefined> {
    const row = await db
      .selectFrom('decisions')
      .select(['approver_name', 'decision'])
      .where('request_id', '=', requestId)
      .where((eb) => eb.or([eb('approver_id', '=', personId), eb('delegate_id', '=', personId)]))
      .executeTakeFirst();
    return row && { approverName: row.approver_name, decision: decodeVerdict(row.decision) };
  },

  /** The vote that counts as this approver's, whoever cast it. */
  async ofApprover(db: Executor, requestId: string, approverId: string): Promise<Pick<DecisionRecord, 'decision' | 'delegateName'> | undefined> {
    const row = await db.selectFrom('decisions').select(['decision', 'delegate_name']).where('request_id', '=', requestId).where('approver_id', '=', approverId).executeTakeFirst();
    return row && { decision: decodeVerdict(row.decision), delegateName: row.delegate_name };
  },

  /** Approvals a delegate gave on someone's behalf. */
  async approvalsOnBehalf(db: Executor, requestId: string): Promise<{ approverName: string; delegateName: string }[]> {
    const rows = await db.selectFrom('decisions').select(['approver_name', 'delegate_name']).where('request_id', '=', requestId).where('decision', '=', 'approve').where('delegate_name', 'is not', null).execute();
    return rows.map((row) => ({ approverName: row.approver_name, delegateName: row.delegate_name ?? '' }));
  },

  /** Who voted on the request, with the delegate who cast each vote, if one did. */
  async votersOf(db: Executor, requestId: string): Promise<Pick<DecisionRecord, 'approverName' | 'delegateName'>[]> {
    const rows = await db.selectFrom('decisions').select(['approver_name', 'delegate_name']).where('request_id', '=', requestId).execute();
    return rows.map((row) => ({ approverName: row.approver_name, delegateName: row.delegate_name }));
  },

  /** The names of the approvers whose votes are in. */
  async approverNamesOf(db: Executor, requestId: string): Promise<string[]> {
    return (await db.selectFrom('decisions').select('approver_name').where('request_id', '=', requestId).execute()).map((row) => row.approver_name);
  },

  /** Pending requests with an approval this person cast or that counts as theirs. */
  async pendingApprovedBy(db: Executor, personId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('decisions')
      .innerJoin('requests', 'requests.id', 'decisions.request_id')
      .select('decisions.request_id')
      .distinct()
      .where('requests.status', '=', 'pending')
      .where('decisions.decision', '=', 'approve')
      .where((eb) => eb.or([eb('decisions.approver_id', '=', personId), eb('decisions.delegate_id', '=', personId)]))
      .execute();
    return rows.map((row) => row.request_id);
  },

  /**
   * Takes back this person's approvals of a request: `own` counting as theirs (cast by them or by
   * their delegate), `cast` those they gave as someone's delegate, or both; returns whose they were
   * and, for those a delegate cast, who cast them.
   */
  async withdrawApprovals(db: Executor, requestId: string, personId: string, which: 'own' | 'cast' | 'both' = 'both'): Promise<{ approverName: string; delegateName: string | null }[]> {
    const rows = await db
      .deleteFrom('decisions')
      .where('request_id', '=', requestId)
      .where('decision', '=', 'approve')
      .where((eb) => {
        const own = eb('approver_id', '=', personId);
        const cast = eb('delegate_id', '=', personId);
        return which === 'own' ? own : which === 'cast' ? cast : eb.or([own, cast]);
      })
      .returning(['approver_name', 'delegate_name'])
      .execute();
    return rows.map((row) => ({ approverName: row.approver_name, delegateName: row.delegate_name }));
  },

  /** Narrows the quorum lines an approval may count toward (its approver left some of their groups). */
  async setLines(db: Executor, requestId: string, approverId: string, lines: string[]): Promise<void> {
    await db.updateTable('decisions').set({ lines: JSON.stringify(lines) }).where('request_id', '=', requestId).where('approver_id', '=', approverId).where('decision', '=', 'approve').execute();
  },

  /** The approvals of a request this person gave or that count as theirs: whose, and the quorum lines each fills. */
  async approvalsInvolving(db: Executor, requestId: string, personId: string): Promise<{ approverId: string; delegateId: string | null; lines: string[] | null }[]> {
    const rows = await db
      .selectFrom('decisions')
      .select(['approver_id', 'delegate_id', 'lines'])
      .where('request_id', '=', requestId)
      .where('decision', '=', 'approve')
      .where((eb) => eb.or([eb('approver_id', '=', personId), eb('delegate_id', '=', personId)]))
      .execute();
    return rows.map((row) => ({ approverId: row.approver_id, delegateId: row.delegate_id, lines: decodeLines(row.lines) }));
  },

  /** Everyone who has voted on the request: each approver whose vote is in, and each delegate who cast one for them. */
  async voterIdsOf(db: Executor, requestId: string): Promise<string[]> {
    const rows = await db.selectFrom('decisions').select(['approver_id', 'delegate_id']).where('request_id', '=', requestId).execute();
    return rows.flatMap((row) => (row.delegate_id ? [row.approver_id, row.delegate_id] : [row.approver_id]));
  },
};
