import { z } from 'zod';

/** One line of a `require:` rule: this many approvals from members of this group. */
export const quorumLineSchema = z.strictObject({
  group: z.string(),
  count: z.number().int().min(1),
});
export type QuorumLine = z.infer<typeof quorumLineSchema>;

/** An approval as quorum sees it: whose it is and which lines (groups) it may count toward. */
export interface QuorumVote {
  /** The person behind the vote: two votes with the same `approver` count once. */
  approver: string;
  lines: string[];
}

export const lineProgressSchema = z.object({
  group: z.string(),
  count: z.number().int(),
  /** Approvers counted toward this line, at most `count`. */
  approvers: z.array(z.string()),
});
export type LineProgress = z.infer<typeof lineProgressSchema>;

/**
 * Which vote fills which place. A person in two groups counts once, toward the line that still needs
 * them: the assignment is a maximum matching of approvers to places (augmenting paths, so an earlier
 * vote moves to its other line when a later one can only fill the first).
 */
function assign(lines: QuorumLine[], votes: QuorumVote[]): (string | null)[] {
  const places = lines.flatMap((line) => Array.from({ length: line.count }, () => line.group));
  const holder: (string | null)[] = places.map(() => null);
  const byApprover = new Map<string, Set<string>>();
  for (const vote of votes) {
    const known = byApprover.get(vote.approver) ?? new Set<string>();
    for (const line of vote.lines) known.add(line);
    byApprover.set(vote.approver, known);
  }
  const seek = (approver: string, tried: Set<number>): boolean => {
    const groups = byApprover.get(approver) ?? new Set<string>();
    for (let place = 0; place < places.length; place++) {
      if (tried.has(place) || !groups.has(places[place] ?? '')) continue;
      tried.add(place);
      const current = holder[place];
      if (current === null || current === undefined || seek(current, tried)) {
        holder[place] = approver;
        return true;
      }
    }
    return false;
  };
  for (const approver of byApprover.keys()) seek(approver, new Set());
  return holder;
}

/** Progress per line, in the order the rule lists them. */
export function quorumProgress(lines: QuorumLine[], votes: QuorumVote[]): LineProgress[] {
  const holder = assign(lines, votes);
  let place = 0;
  return lines.map((line) => {
    const approvers = holder.slice(place, place + line.count).filter((name): name is string => name !== null);
    place += line.count;
    return { group: line.group, count: line.count, approvers };
  });
}

export const quorumMet = (progress: LineProgress[]): boolean => progress.every((line) => line.approvers.length >= line.count);

export const countedApprovals = (progress: LineProgress[]): number => progress.reduce((sum, line) => sum + line.approvers.length, 0);

/** Whether one more vote would fill a place no one fills yet (the matching grows). */
export function voteAdvances(lines: QuorumLine[], votes: QuorumVote[], candidate: QuorumVote): boolean {
  if (candidate.lines.length === 0) return false;
  if (votes.some((vote) => vote.approver === candidate.approver)) return false;
  return countedApprovals(quorumProgress(lines, [...votes, candidate])) > countedApprovals(quorumProgress(lines, votes));
}

/**
 * The lines a person's approval may count toward: the lines of their own groups; someone who may
 * decide only because the request escalated to them stands in for any line.
 */
export function linesFor(
  lines: QuorumLine[],
  eligible: { eligibleGroups: string[]; eligibleUsers: string[] },
  person: { name: string; groups: string[] },
): string[] {
  const lineGroups = lines.map((line) => line.group);
  const escalatedTo = eligible.eligibleUsers.includes(person.name) || person.groups.some((group) => eligible.eligibleGroups.includes(group) && !lineGroups.includes(group));
  if (escalatedTo) return [...new Set(lineGroups)];
  return [...new Set(lineGroups.filter((group) => person.groups.includes(group)))];
}

/** "sre 1/1 · security 0/1" */
export const describeProgress = (progress: LineProgress[]): string => progress.map((line) => `${line.group} ${line.approvers.length}/${line.count}`).join(' · ');
