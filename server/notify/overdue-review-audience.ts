import type { FrozenRule } from '../../protocol/index.js';

/**
 * Whom an overdue break-glass review's messages to people through `target` (`email`, `slack:dm`) go
 * to, by user or group name: where the rule's `notify` names the target, those who owe the review (its
 * reviewers) and those asked to chase it (every escalation step's targets, as the review escalates to
 * them all at once); where a step's `channels` name it, that step's targets. Never the rule's approvers
 * as such: they approve requests but do not review break-glass.
 */
export function overdueReviewAudience(rule: FrozenRule, target: string): ReadonlySet<string> {
  const byRule = rule.notify?.includes(target) ? [...(rule.breakGlass?.reviewers ?? []), ...rule.escalation.flatMap((step) => step.notify)] : [];
  const bySteps = rule.escalation.filter((step) => step.channels?.includes(target)).flatMap((step) => step.notify);
  return new Set([...byRule, ...bySteps]);
}
