import type { Transaction } from 'kysely';
import {
  countedApprovals,
  describeProgress,
  GreenlightError,
  linesFor,
  quorumMet,
  quorumProgress,
  voteAdvances,
  type FrozenRule,
  type LineProgress,
  type QuorumVote,
} from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { RequestRecord } from '../store/requests.js';
import { decisionStore, type DecisionRecord } from '../store/decisions.js';

/** The approvals of a request as quorum counts them. */
export const quorumVotesOf = (decisions: Pick<DecisionRecord, 'approverName' | 'decision' | 'lines'>[]): QuorumVote[] =>
  decisions.filter((d) => d.decision === 'approve').map((d) => ({ approver: d.approverName, lines: d.lines ?? [] }));

/** The lines an approver's vote on this request may count toward, as of now (eligibility is checked at decision time). */
export function voteLines(rule: FrozenRule, row: RequestRecord, person: { name: string; groups: string[] }): string[] | null {
  if (!rule.require) return null;
  return linesFor(rule.require, { eligibleGroups: row.eligible_groups, eligibleUsers: row.eligible_users }, person);
}

export interface Tally {
  approvals: number;
  of: number;
  met: boolean;
  progress: LineProgress[] | null;
}

/** Where a quorum stands with these approvals counted. */
function standing(rule: FrozenRule, votes: QuorumVote[]): Tally {
  if (!rule.require) return { approvals: votes.length, of: rule.minApprovals, met: votes.length >= rule.minApprovals, progress: null };
  const progress = quorumProgress(rule.require, votes);
  return { approvals: countedApprovals(progress), of: rule.minApprovals, met: quorumMet(progress), progress };
}

/**
 * Counts a new approval: under `require:` lines, refuses one that would fill no place still open
 * (QUORUM_LINE_MET), so a race of many approvers records exactly the votes the rule needs.
 */
export async function tallyApproval(trx: Transaction<Database>, rule: FrozenRule, requestId: string, vote: QuorumVote): Promise<Tally> {
  const votes = quorumVotesOf(await decisionStore.tallyOf(trx, requestId));
  if (rule.require && !voteAdvances(rule.require, votes, vote)) {
    const mine = vote.lines.length ? `every line you count toward (${vote.lines.join(', ')}) is met` : 'you are in none of its groups';
    throw new GreenlightError('QUORUM_LINE_MET', `Your approval would not count: ${mine}. Progress: ${describeProgress(quorumProgress(rule.require, votes))}.`);
  }
  // The new approval is not written yet: it is the one added here.
  return standing(rule, [...votes, vote]);
}

/** Where a request's quorum stands with the approvals written so far, as a vote's audit event records it. */
export async function currentTally(trx: Transaction<Database>, rule: FrozenRule, requestId: string): Promise<{ approvals: number; of: number; lines?: LineProgress[] }> {
  const { approvals, of, progress } = standing(rule, quorumVotesOf(await decisionStore.tallyOf(trx, requestId)));
  return { approvals, of, ...(progress ? { lines: progress } : {}) };
}
