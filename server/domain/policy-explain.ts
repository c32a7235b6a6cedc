import type { Kysely } from 'kysely';
import { formatDuration, type ExplainQuery, type Policy, type PolicyExplanation, type PolicyRule } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import { approvalsNeeded, freezeRule, matchRule, ruleMismatch } from './policy.js';
import { approverReach, listOf } from './approver-reach.js';
import { decodeRoles, userStore } from '../store/users.js';

const addSeconds = (now: Date, seconds: number): string => new Date(now.getTime() + seconds * 1000).toISOString();

/** "needs sre 1 + security 1; escalates to sre-leads in 10m" */
function summarise(rule: PolicyRule): string {
  if (rule.autoApprove) return `approved at once (rule ${rule.name} approves automatically)`;
  const needs = rule.require
    ? `needs ${rule.require.map((line) => `${line.group} ${line.count}`).join(' + ')}`
    : `needs ${rule.minApprovals} approval${rule.minApprovals === 1 ? '' : 's'} from ${listOf(rule.approvers).replace(/ and /, ' or ')}`;
  const steps = rule.escalation.map((step) => `escalates to ${step.notify.join(', ')} in ${formatDuration(step.after)}`);
  const expiry = rule.expireAfter !== undefined ? [`expires after ${formatDuration(rule.expireAfter)}`] : [];
  return [needs, ...steps, ...expiry].join('; ');
}

/**
 * What the policy would do with a request made now: the rule that matches, who approves and how
 * many, the escalation timeline, expiry and grant TTL; when nothing matches, why for each rule.
 */
export function explainPolicy(policy: Policy, query: Pick<ExplainQuery, 'action' | 'resource' | 'environment' | 'risk'>, now: Date): PolicyExplanation {
  const rule = matchRule(policy, query);
  const before = rule ? policy.rules.slice(0, policy.rules.indexOf(rule)) : policy.rules;
  const skipped = before.map((other) => ({ rule: other.name, why: ruleMismatch(other, query) ?? 'does not match' }));
  if (!rule) {
    return {
      matched: false,
      rule: null,
      summary: `no rule covers ${query.action} on ${query.resource} in ${query.environment}: such a request is refused (NO_POLICY)`,
      autoApprove: false,
      allowSelfApproval: false,
      approvals: 0,
      groups: [],
      escalation: [],
      expiresAt: null,
      grantTtlSeconds: null,
      windows: [],
      breakGlass: null,
      skipped,
    };
  }
  return {
    matched: true,
    rule: rule.name,
    summary: summarise(rule),
    autoApprove: rule.autoApprove,
    allowSelfApproval: rule.allowSelfApproval,
    approvals: rule.autoApprove ? 0 : approvalsNeeded(rule),
    groups: rule.autoApprove ? [] : rule.require ? rule.require.map((line) => ({ group: line.group, count: line.count, members: [] })) : rule.approvers.map((group) => ({ group, count: null, members: [] })),
    escalation: rule.autoApprove ? [] : rule.escalation.map((step) => ({ afterSeconds: step.after, at: addSeconds(now, step.after), notify: step.notify })),
    expiresAt: !rule.autoApprove && rule.expireAfter !== undefined ? addSeconds(now, rule.expireAfter) : null,
    grantTtlSeconds: rule.grantTtl,
    windows: rule.windows ?? [],
    breakGlass: rule.breakGlass
      ? { groups: rule.breakGlass.groups, maxTtlSeconds: rule.breakGlass.maxTtl, cooldownSeconds: rule.breakGlass.cooldown, reviewers: rule.breakGlass.reviewers, eligible: false }
      : null,
    skipped,
  };
}

/**
 * Fills in who, by name, could decide for each group (active members with a role that decides, less
 * the requester unless self-approval is allowed), and whether the requester may break glass.
 */
export async function withMembers(db: Kysely<Database>, policy: Policy, explanation: PolicyExplanation, requester: string): Promise<PolicyExplanation> {
  const glass = explanation.breakGlass;
  if (glass) {
    const own = await db.selectFrom('user_groups').innerJoin('users', 'users.id', 'user_groups.user_id').select('user_groups.group_name').where('users.name', '=', requester).execute();
    explanation = { ...explanation, breakGlass: { ...glass, eligible: own.some((row) => glass.groups.includes(row.group_name)) } };
  }
  const groups = explanation.groups.map((entry) => entry.group);
  if (groups.length === 0) return explanation;
  const rows = await db
    .selectFrom('users')
    .innerJoin('user_groups', 'user_groups.user_id', 'users.id')
    .select(['users.name', 'users.roles', 'user_groups.group_name'])
    .where('users.disabled', '=', 0)
    .where('user_groups.group_name', 'in', groups)
    .orderBy('users.name')
    .execute();
  const deciders = rows.filter((row) => decodeRoles(row.roles).some((role) => role !== 'requester') && (explanation.allowSelfApproval || row.name !== requester));
  const filled = { ...explanation, groups: explanation.groups.map((entry) => ({ ...entry, members: deciders.filter((row) => row.group_name === entry.group).map((row) => row.name) })) };
  const rule = policy.rules.find((candidate) => candidate.name === explanation.rule);
  return { ...filled, summary: filled.summary + (rule ? await tooFewNote(db, rule, requester) : '') };
}

/**
 * Under `minApprovals`, fewer people who could decide than approvals needed (one approval per
 * person, however many of the groups they are in): said before the request is made, not after, and
 * counted as a submission counts them (escalation included), so both say the same.
 */
async function tooFewNote(db: Kysely<Database>, rule: PolicyRule, requester: string): Promise<string> {
  if (rule.autoApprove || rule.require) return '';
  // Someone not (yet) a user asks as nobody in particular: nobody is left out as the requester.
  const asker = await userStore.byName(db, requester);
  const reach = await approverReach(db, freezeRule(rule), { id: asker?.id ?? '' });
  if (reach.kind === 'approvers' || !reach.shortfall) return '';
  const { able, needed, viaEscalation } = reach.shortfall;
  const counted = viaEscalation ? ' (with those its escalation reaches)' : '';
  const outcome = reach.kind === 'escalation' ? 'it would be escalated at once' : 'it would be refused (NO_APPROVERS)';
  return `; too few could approve it: only ${able} ${able === 1 ? 'person' : 'people'}${counted}, for the ${needed} approvals it needs, so ${outcome}`;
}

