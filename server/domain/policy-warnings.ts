import { formatDuration, type Policy } from '../../protocol/index.js';

/**
 * What a valid policy says that is almost certainly a mistake: an escalation step or a reminder
 * that comes at or after the rule's `expireAfter` never reaches anyone, since the request has
 * expired by then (a request past its expiry is expired, never escalated or reminded).
 */
export function policyWarnings(policy: Policy): string[] {
  const warnings: string[] = [];
  for (const rule of policy.rules) {
    const expiry = rule.expireAfter;
    if (expiry === undefined) continue;
    rule.escalation.forEach((step, index) => {
      if (step.after >= expiry) {
        warnings.push(`rule "${rule.name}": escalation step ${index + 1} (after ${formatDuration(step.after)}) comes at or after expireAfter (${formatDuration(expiry)}): the request has expired by then, so it never pages anyone; escalate sooner or let requests wait longer`);
      }
    });
    if (rule.remind !== undefined && rule.remind >= expiry) {
      warnings.push(`rule "${rule.name}": remind (${formatDuration(rule.remind)}) comes at or after expireAfter (${formatDuration(expiry)}): no reminder is ever sent`);
    }
  }
  return warnings;
}
