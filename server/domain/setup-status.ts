import path from 'node:path';
import type { Role, SetupStatus } from '../../protocol/index.js';
import type { Actor } from './actor.js';
import type { Context } from './context.js';
import { requireAdmin } from './users.js';
import { approverGroupsOf } from './policy.js';

/** Where the rules come from, who can sign in, and which approver groups have nobody to approve (admins only). */
export async function setupStatus(ctx: Context, by: Actor): Promise<SetupStatus> {
  requireAdmin(by);
  const policy = ctx.policy.current();
  const users = await ctx.store.db.selectFrom('users').select(['id', 'name', 'roles', 'disabled']).execute();
  const memberships = await ctx.store.db.selectFrom('user_groups').select(['user_id', 'group_name']).execute();
  // Only someone with a role beyond `requester` may decide (the same rule as `isEligible`).
  const approvers = new Map(users.filter((user) => user.disabled === 0 && (JSON.parse(user.roles) as Role[]).some((role) => role !== 'requester')).map((user) => [user.id, user.name]));
  const rulesByGroup = new Map<string, string[]>();
  for (const rule of policy.rules) {
    for (const group of approverGroupsOf(rule)) rulesByGroup.set(group, [...(rulesByGroup.get(group) ?? []), rule.name]);
  }
  return {
    policy: { source: ctx.policy.file ? 'file' : 'built-in', file: ctx.policy.file ? path.resolve(ctx.policy.file) : null, rules: policy.rules.length },
    users: { active: users.filter((user) => user.disabled === 0).length, total: users.length },
    approverGroups: [...rulesByGroup].map(([group, rules]) => ({
      group,
      rules,
      approvers: memberships
        .filter((membership) => membership.group_name === group && approvers.has(membership.user_id))
        .map((membership) => approvers.get(membership.user_id) ?? '')
        .sort(),
    })),
  };
}
