import type { FrozenRule, NotificationEvent } from '../../protocol/index.js';
import { reachedSteps } from './event-targets.js';

/**
 * Whom an email of this event asks, by user or group name; null: everyone the request names who may
 * decide it. An escalation asks the people its step adds (those asked before hear again through
 * `remind`). An overdue break-glass review asks those who owe the review (its reviewers) and those
 * asked to chase it (the escalation steps' targets) where the rule names email, and where only a
 * step's `channels` name email, that step's targets: never the rule's approvers as such, who approve
 * requests but do not review break-glass.
 */
export function emailAudience(type: NotificationEvent, rule: FrozenRule, step: number | null): ReadonlySet<string> | null {
  if (type === 'request.escalated') return step === null ? null : new Set(reachedSteps(type, rule, step).flatMap((reached) => reached.notify));
  if (type !== 'request.break_glass_overdue') return null;
  const steps = reachedSteps(type, rule, step);
  const byRule = rule.notify?.includes('email') ? [...(rule.breakGlass?.reviewers ?? []), ...steps.flatMap((reached) => reached.notify)] : [];
  const bySteps = steps.filter((reached) => reached.channels?.includes('email')).flatMap((reached) => reached.notify);
  return new Set([...byRule, ...bySteps]);
}
