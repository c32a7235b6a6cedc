import type { FrozenRule, NotificationEvent } from '../../protocol/index.js';
import type { RequestRecord } from '../store/requests.js';

/** Where a request stands in its escalation chain: what decides which steps' channels its events reach. */
export type ChainPosition = Pick<RequestRecord, 'escalation_level' | 'escalation_round' | 'eligible_groups' | 'eligible_users'>;

/**
 * The escalation steps whose people an event reaches: for `request.escalated` the step that fired;
 * for a reminder every step that already paged someone, as its people are asked again where their
 * step reached them; for an overdue break-glass review, which asks every step's targets at once to
 * chase it, every step.
 */
export function reachedSteps(type: NotificationEvent, rule: FrozenRule, at: ChainPosition): FrozenRule['escalation'] {
  if (type === 'request.escalated') {
    const fired = rule.escalation[Number(at.escalation_level) - 1];
    return fired ? [fired] : [];
  }
  if (type === 'request.reminded') {
    // A repeated chain starts its level again at 0, but every step of it has run once by then.
    const passed = Number(at.escalation_round) > 0 ? rule.escalation.length : Number(at.escalation_level);
    // A step passed with nobody to page (skipped, or no one left in its groups) paged no one: its people never joined.
    const joined = new Set([...at.eligible_groups, ...at.eligible_users]);
    return rule.escalation.slice(0, passed).filter((step) => step.notify.some((name) => joined.has(name)));
  }
  if (type === 'request.break_glass_overdue') return rule.escalation;
  return [];
}

/**
 * The policy targets (`email`, `webhook:<name>`, chat targets) an event of this rule goes to: the
 * rule's `notify`, and the `channels` of each escalation step it reaches people through, as an
 * escalation (and each reminder after it) reaches its leads where their step says.
 */
export function targetsOf(type: NotificationEvent, rule: FrozenRule, at: ChainPosition): Set<string> {
  const targets = new Set(rule.notify ?? []);
  for (const reached of reachedSteps(type, rule, at)) for (const target of reached.channels ?? []) targets.add(target);
  return targets;
}
