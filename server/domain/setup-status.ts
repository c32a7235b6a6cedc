import path from 'node:path';
import type { ClusterStatus, SetupStatus } from '../../protocol/index.js';
import { userStore } from '../store/users.js';
import type { Actor } from './actor.js';
import type { Context } from './context.js';
import { requireAdmin } from './users.js';
import { approverGroupsOf } from './policy.js';
import { shortDigest } from './policy-digest.js';
import { DEPLOY_SAME_POLICY, type PolicyAgreement } from './policy-agreement.js';
import { clockWarning, toTenthsOfSeconds } from '../database-clock.js';

function clockStatus(aheadMs: number | null): Pick<ClusterStatus, 'clockAheadSeconds' | 'clockWarning'> {
  if (aheadMs === null) return { clockAheadSeconds: null, clockWarning: null };
  return { clockAheadSeconds: toTenthsOfSeconds(aheadMs), clockWarning: clockWarning(aheadMs) };
}

/** This hub's standing with the others on its database, as admins see it in the setup status and its pushes. */
export function clusterStatus(agreement: PolicyAgreement, ownClockAheadMs: number | null): ClusterStatus {
  const hubs = agreement.peersHeard().map(({ hub, host, url, file, digest, samePolicy }) => ({ hub, host, url, file, digest: shortDigest(digest), samePolicy }));
  const differing = hubs.filter((hub) => !hub.samePolicy);
  const own = shortDigest(agreement.ownPolicy().digest);
  const policyWarning = differing.length
    ? `${differing.length === 1 ? 'Another hub runs' : `${differing.length} other hubs run`} a different policy than this hub (${own}): ${differing.map((hub) => `${hub.host} at ${hub.url} runs ${hub.digest} from ${hub.file ?? 'the built-in rule'}`).join('; ')}. ${DEPLOY_SAME_POLICY}`
    : null;
  return { hubs, policyWarning, ...clockStatus(ownClockAheadMs) };
}

/** Where the rules come from, who can sign in, and which approver groups have nobody to approve (admins only). */
export async function setupStatus(ctx: Context, by: Actor): Promise<SetupStatus> {
  requireAdmin(by);
  const policy = ctx.policy.current();
  const users = await userStore.all(ctx.store.db);
  const memberships = await userStore.memberships(ctx.store.db);
  // Only someone with a role beyond `requester` may decide (the same rule as `isEligible`).
  const approvers = new Map(users.filter((user) => !user.disabled && user.roles.some((role) => role !== 'requester')).map((user) => [user.id, user.name]));
  const rulesByGroup = new Map<string, string[]>();
  for (const rule of policy.rules) {
    for (const group of approverGroupsOf(rule)) rulesByGroup.set(group, [...(rulesByGroup.get(group) ?? []), rule.name]);
  }
  return {
    policy: { source: ctx.policy.file ? 'file' : 'built-in', file: ctx.policy.file ? path.resolve(ctx.policy.file) : null, rules: policy.rules.length, digest: shortDigest(ctx.policy.digest()) },
    users: { active: users.filter((user) => !user.disabled).length, total: users.length },
    approverGroups: [...rulesByGroup].map(([group, rules]) => ({
      group,
      rules,
      approvers: memberships
        .filter((membership) => membership.group === group && approvers.has(membership.userId))
        .map((membership) => approvers.get(membership.userId) ?? '')
        .sort(),
    })),
    cluster: ctx.peerPolicies ? clusterStatus(ctx.peerPolicies, ctx.ownClockAheadMs?.() ?? null) : null,
  };
}
