import type { Kysely, Transaction } from 'kysely';
import { decidesAnything, type Policy } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { userStore } from '../store/users.js';
import { distinctPeople, listOf, unfillableLines, unstaffedPolicyNames } from './approver-reach.js';
import type { Context } from './context.js';
import { approverGroupsOf } from './policy.js';
import { policyWarnings } from './policy-warnings.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** A rule whose groups have people who could decide, but too few for the approvals it needs. */
export interface UnderstaffedRule {
  rule: string;
  why: string;
}

/**
 * Rules whose approver groups hold some people who could decide, but fewer than the rule needs
 * (counted as the votes are: one approval per person, each filling one `require:` line). Groups
 * with nobody at all are reported by unstaffedPolicyNames. The requester is not known here: a
 * member asking for themselves leaves one fewer still.
 */
export async function understaffedRules(db: Executor, policy: Policy): Promise<UnderstaffedRule[]> {
  const rules = policy.rules.filter((rule) => !rule.autoApprove);
  const deciders = (await userStore.activeReachedBy(db, [...new Set(rules.flatMap(approverGroupsOf))])).filter((user) => user.group !== null && decidesAnything(user.roles));
  const staffed = (group: string) => deciders.some((user) => user.group === group);
  const found: UnderstaffedRule[] = [];
  for (const rule of rules) {
    if (rule.require) {
      const short = unfillableLines(rule.require, deciders).filter(staffed);
      if (short.length) found.push({ rule: rule.name, why: `its ${listOf(short)} line${short.length === 1 ? ' has' : 's have'} too few active members who could approve (one person fills one line)` });
      continue;
    }
    const able = distinctPeople(deciders.filter((user) => user.group !== null && rule.approvers.includes(user.group)));
    if (able > 0 && able < rule.minApprovals) {
      const have = rule.approvers.length === 1 ? 'has' : 'together have';
      found.push({ rule: rule.name, why: `it needs ${rule.minApprovals} approvals from different people, and ${listOf(rule.approvers)} ${have} only ${able} active ${able === 1 ? 'member' : 'members'} who could give one` });
    }
  }
  return found;
}

/**
 * Logs what a policy just loaded says that is likely a mistake: a step or reminder due after its
 * request expires (policyWarnings), each group (or escalation target) that reaches nobody who
 * could decide, and each rule that needs more approvals than its groups have people to give.
 */
export async function warnOfPolicyProblems(ctx: Pick<Context, 'store' | 'log' | 'policy'>): Promise<void> {
  for (const warning of policyWarnings(ctx.policy.current())) ctx.log.warn({ file: ctx.policy.file }, warning);
  let unstaffed: { name: string; rules: string[] }[];
  let understaffed: UnderstaffedRule[];
  try {
    unstaffed = await unstaffedPolicyNames(ctx.store.db, ctx.policy.current());
    understaffed = await understaffedRules(ctx.store.db, ctx.policy.current());
  } catch (error) {
    ctx.log.error({ err: error }, "cannot check the policy's groups for members");
    return;
  }
  const [first] = unstaffed;
  if (first) {
    const named = unstaffed.map((entry) => `${entry.name} (rule ${entry.rules.join(', ')})`).join('; ');
    ctx.log.warn(
      { unstaffed, file: ctx.policy.file },
      `the policy names groups with no active member who could approve: ${named}. Requests only they could approve are refused with NO_APPROVERS ` +
        `(or escalated at once where a later step has someone); add someone, e.g. greenlight user add <name> --role approver --group ${first.name}`,
    );
  }
  if (understaffed.length) {
    const named = understaffed.map((entry) => `rule "${entry.rule}": ${entry.why}`).join('; ');
    ctx.log.warn(
      { understaffed, file: ctx.policy.file },
      `too few people could approve under some rules: ${named}. Their requests are refused with NO_APPROVERS (or escalated at once where the escalation brings enough people); ` +
        'add approvers to those groups or lower the count',
    );
  }
}
