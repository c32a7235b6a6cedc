import type { Kysely, Transaction } from 'kysely';
import { GreenlightError, decidesAnything, type FrozenRule, type ParsedNewRequest, type Policy } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { userStore, type ReachedUser } from '../store/users.js';
import { approverGroupsOf } from './policy.js';
import { quorumProgress, type QuorumLine, type QuorumVote } from '../../protocol/quorum.js';

type Executor = Kysely<Database> | Transaction<Database>;

const reaches = (targets: string[], user: ReachedUser): boolean => targets.includes(user.name) || (user.group !== null && targets.includes(user.group));

/** Who could decide a request under a rule, as far as its approver groups and escalation steps go. */
export type Reach =
  | { kind: 'approvers' }
  /** No approver group has anyone; `step` (0-based) is the first escalation step that does. */
  | { kind: 'escalation'; step: number; emptyGroups: string[]; requesterAlone: boolean; tooFew?: boolean; shortfall?: Shortfall }
  | { kind: 'nobody'; emptyGroups: string[]; requesterAlone: boolean; tooFew?: boolean; shortfall?: Shortfall };

/**
 * A `minApprovals` rule whose approver groups hold some people who could decide, but fewer than it
 * needs: `able` of them (counting those its escalation reaches, once refused), `needed` approvals.
 */
export interface Shortfall {
  needed: number;
  able: number;
  /** Whether `able` counts people only the rule's escalation reaches. */
  viaEscalation?: boolean;
}

/**
 * Whether anyone active could ever decide a request under `rule`: a member of an approver group
 * with a role that decides, other than the requester unless the rule allows self-approval; failing
 * that, the first escalation step that reaches such a person.
 */
export function approverReach(db: Executor, rule: FrozenRule, requester: { id: string }): Promise<Reach> {
  return reachAmong(rule, requester, (names) => userStore.activeReachedBy(db, names));
}

async function reachAmong(rule: FrozenRule, requester: { id: string }, activeReachedBy: (names: string[]) => Promise<ReachedUser[]>): Promise<Reach> {
  const steps = rule.escalation.map((step) => step.notify);
  // Someone with only the requester role is never offered a decision (see isEligibleApprover).
  const users = await activeReachedBy([...new Set([...rule.approvers, ...steps.flat()])]);
  const deciders = users.filter((user) => decidesAnything(user.roles) && (rule.allowSelfApproval || user.id !== requester.id));
  const staffed = (group: string, count: number) => new Set(deciders.filter((user) => user.group === group).map((user) => user.id)).size >= count;
  const step = steps.findIndex((targets) => deciders.some((user) => reaches(targets, user)));
  if (!rule.require) return plainQuorumReach(rule, requester, users, deciders, step);
  // Under `require:` lines every line needs its count of people who could decide, each person filling
  // one line only (the same matching that counts votes), or the request could never be approved.
  const emptyGroups = unfillableLines(rule.require, deciders);
  if (emptyGroups.length === 0) return { kind: 'approvers' };
  const requesterAlone = users.some((user) => user.id === requester.id && user.group !== null && emptyGroups.includes(user.group) && decidesAnything(user.roles));
  // A line whose group has people, all of them needed for other lines (or fewer than its count).
  const tooFew = emptyGroups.some((group) => staffed(group, 1)) ? { tooFew: true } : {};
  // Someone the chain escalates to by name, or through a group that is no line, stands in for any
  // line (linesFor): escalating helps only if, with them, every line could be filled.
  const lineGroups = rule.require.map((line) => line.group);
  const escalatedTo = (user: ReachedUser) => steps.some((targets) => targets.includes(user.name) || (user.group !== null && targets.includes(user.group) && !lineGroups.includes(user.group)));
  if (step >= 0 && unfillableLines(rule.require, deciders, escalatedTo).length === 0) return { kind: 'escalation', step, emptyGroups, requesterAlone, ...tooFew };
  return { kind: 'nobody', emptyGroups, requesterAlone, ...tooFew };
}

export const distinctPeople = (users: ReachedUser[]): number => new Set(users.map((user) => user.id)).size;

/**
 * Reach under `minApprovals`: the vote counting takes one approval per person (a delegate's vote is
 * their delegator's, so delegates add nobody), so the approver groups need that many distinct people
 * who could decide. Short of them, escalating helps only if the chain brings the count up to it.
 */
function plainQuorumReach(rule: FrozenRule, requester: { id: string }, users: ReachedUser[], deciders: ReachedUser[], step: number): Reach {
  const inGroups = (user: ReachedUser) => user.group !== null && rule.approvers.includes(user.group);
  const needed = rule.minApprovals;
  const able = distinctPeople(deciders.filter(inGroups));
  if (able >= needed) return { kind: 'approvers' };
  const requesterAlone = !rule.allowSelfApproval && users.some((user) => user.id === requester.id && inGroups(user) && decidesAnything(user.roles));
  const shortOf = { emptyGroups: rule.approvers, requesterAlone };
  const withChain = distinctPeople(deciders.filter((user) => inGroups(user) || rule.escalation.some((target) => reaches(target.notify, user))));
  if (step >= 0 && withChain >= needed) return { kind: 'escalation', step, ...shortOf, ...(able > 0 ? { shortfall: { needed, able } } : {}) };
  // Refused: counted with everyone the chain could ever add, since it would add them in time.
  return { kind: 'nobody', ...shortOf, ...(withChain > 0 ? { shortfall: { needed, able: withChain, viaEscalation: withChain > able } } : {}) };
}

/**
 * The `require:` lines that could not all be filled at once by these people, each voting once for one
 * line: a line of their own groups, or any line for someone `standsInForAll` (escalated to).
 */
export function unfillableLines(lines: QuorumLine[], deciders: ReachedUser[], standsInForAll: (user: ReachedUser) => boolean = () => false): string[] {
  const lineGroups = lines.map((line) => line.group);
  const linesOf = new Map<string, Set<string>>();
  for (const user of deciders) {
    const mine = linesOf.get(user.id) ?? new Set<string>();
    if (standsInForAll(user)) for (const group of lineGroups) mine.add(group);
    else if (user.group !== null && lineGroups.includes(user.group)) mine.add(user.group);
    linesOf.set(user.id, mine);
  }
  const everyone: QuorumVote[] = [...linesOf].map(([id, mine]) => ({ approver: id, lines: [...mine] }));
  return quorumProgress(lines, everyone)
    .filter((line) => line.approvers.length < line.count)
    .map((line) => line.group);
}

const reachesInTransaction = new WeakMap<Transaction<Database>, Map<string, Promise<Reach>>>();

/**
 * approverReach, asked once per rule and requester in a transaction: the submissions of one group
 * commit share it, and nothing in them changes users. One query per batch instead of one per
 * submission, each a round trip on PostgreSQL; it is sent ahead (`readAhead`), so reads started
 * beside it share its round trip.
 */
export function approverReachIn(trx: Transaction<Database>, rule: FrozenRule, requester: { id: string }): Promise<Reach> {
  let known = reachesInTransaction.get(trx);
  if (!known) reachesInTransaction.set(trx, (known = new Map()));
  const key = `${requester.id}\n${JSON.stringify(rule)}`;
  let reach = known.get(key);
  if (!reach) {
    reach = reachAmong(rule, requester, (names) => userStore.activeReachedByAhead(trx, names));
    // Started early, it may be left unread when the submission is refused first; the caller awaiting it still sees a failure.
    reach.catch(() => undefined);
    known.set(key, reach);
  }
  return reach;
}

/** "a", "a and b", "a, b and c". */
export function listOf(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** Why nobody in the rule's approver groups is asked, for the timeline and the audit log. */
export function whyNoApprovers(groups: string[], requesterAlone: boolean, shortfall?: Shortfall): string {
  const other = requesterAlone ? ' other than the requester' : '';
  if (shortfall) return `too few could approve it: it needs ${shortfall.needed} approvals from different people, and only ${shortfall.able} active ${people(shortfall.able)} in ${listOf(groups)}${other} could give one`;
  return `no active member of ${listOf(groups)}${other} could approve it`;
}

const people = (count: number): string => (count === 1 ? 'person' : 'people');

/** The refusal of a `minApprovals` rule whose groups (and escalation) hold fewer people who could decide than it needs. */
function tooFewError(request: Pick<ParsedNewRequest, 'action' | 'resource' | 'environment'>, rule: string, reach: Reach & { kind: 'nobody' }, shortfall: Shortfall): GreenlightError {
  const where = listOf(shortfall.viaEscalation ? [...reach.emptyGroups, "the rule's escalation steps"] : reach.emptyGroups);
  const have = reach.emptyGroups.length > 1 || shortfall.viaEscalation ? 'together have' : 'has';
  const besides = reach.requesterAlone ? ' besides you (the rule does not let you approve your own request)' : '';
  const missing = shortfall.needed - shortfall.able;
  return new GreenlightError(
    'NO_APPROVERS',
    `Too few people can approve ${request.action} on ${request.resource} in ${request.environment}: rule "${rule}" needs ${shortfall.needed} approvals from different people, ` +
      `and ${where} ${have} only ${shortfall.able} active ${people(shortfall.able)} who could give one${besides}. ` +
      `Ask an admin to add ${missing} more, e.g. greenlight user add <name> --role approver --group ${reach.emptyGroups[0] ?? '<group>'}.`,
  );
}

/** The refusal a requester gets when nobody could approve: names the empty groups and how to fill one. */
export function noApproversError(request: Pick<ParsedNewRequest, 'action' | 'resource' | 'environment'>, rule: string, reach: Reach & { kind: 'nobody' }): GreenlightError {
  if (reach.shortfall) return tooFewError(request, rule, reach, reach.shortfall);
  const groups = listOf(reach.emptyGroups);
  const have = reach.emptyGroups.length === 1 ? 'has' : 'have';
  const who = reach.tooFew
    ? 'too few active members who could approve it besides those the other lines need (one person fills one line)'
    : reach.requesterAlone
      ? 'no active member but you, and the rule does not let you approve your own request'
      : 'no active member who could approve it';
  return new GreenlightError(
    'NO_APPROVERS',
    `Nobody can approve ${request.action} on ${request.resource} in ${request.environment}: rule "${rule}" needs an approver from ${groups}, ` +
      `and ${groups} ${have} ${who}. Ask an admin to add one, e.g. greenlight user add <name> --role approver --group ${reach.emptyGroups[0] ?? '<group>'}.`,
  );
}

/** Names (groups, or users in escalation steps) a policy uses that reach nobody who could decide. */
export async function unstaffedPolicyNames(db: Executor, policy: Policy): Promise<{ name: string; rules: string[] }[]> {
  const uses = new Map<string, { rules: Set<string>; asApprovers: boolean }>();
  const use = (name: string, rule: string, asApprovers: boolean) => {
    const entry = uses.get(name) ?? { rules: new Set<string>(), asApprovers: false };
    entry.rules.add(rule);
    entry.asApprovers ||= asApprovers;
    uses.set(name, entry);
  };
  for (const rule of policy.rules) {
    if (rule.autoApprove) continue;
    for (const group of approverGroupsOf(rule)) use(group, rule.name, true);
    for (const step of rule.escalation) for (const name of step.notify) use(name, rule.name, false);
  }
  const deciders = (await userStore.activeReachedBy(db, [...uses.keys()])).filter((user) => decidesAnything(user.roles));
  // An approver entry is a group; an escalation target may be a group or a user's name.
  const staffed = (name: string, asApprovers: boolean) => deciders.some((user) => user.group === name || (!asApprovers && user.name === name));
  return [...uses].filter(([name, entry]) => !staffed(name, entry.asApprovers)).map(([name, entry]) => ({ name, rules: [...entry.rules] }));
}
