import type { FrozenRule, NotificationEvent } from '../../protocol/index.js';

/**
 * The escalation steps whose people an event reaches: for `request.escalated` the step that fired; for
 * an overdue break-glass review, which asks every step's targets at once to chase it, every step.
 */
export function reachedSteps(type: NotificationEvent, rule: FrozenRule, step: number | null): FrozenRule['escalation'] {
  if (type === 'request.escalated') return step === null || !rule.escalation[step] ? [] : [rule.escalation[step]];
  if (type === 'request.break_glass_overdue') return rule.escalation;
  return [];
}

/**
 * The policy targets (`email`, `webhook:<name>`, chat targets) an event of this rule goes to: the
 * rule's `notify`, and the `channels` of each escalation step it reaches people through, as an
 * escalation reaches its leads where their step says.
 */
export function targetsOf(type: NotificationEvent, rule: FrozenRule, step: number | null): Set<string> {
  const targets = new Set(rule.notify ?? []);
  for (const reached of reachedSteps(type, rule, step)) for (const target of reached.channels ?? []) targets.add(target);
  return targets;
}
