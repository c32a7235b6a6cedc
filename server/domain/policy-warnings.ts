import { formatDuration, type Policy } from '../../protocol/index.js';
import { DEFAULT_MAX_SCHEDULE_AHEAD_SECONDS } from './time/access-start.js';

/**
 * What a valid policy says that is almost certainly a mistake: an escalation step or a reminder
 * that comes at or after the rule's `expireAfter` never reaches anyone, since the request has
 * expired by then (a request past its expiry is expired, never escalated or reminded); an
 * `extendBefore` longer than `maxScheduleAhead` is cut to it, since an extension starts where the
 * grant ends and is arranged no further ahead than any request.
 */
export function policyWarnings(policy: Policy): string[] {
  const warnings: string[] = [];
  for (const rule of policy.rules) {
    const scheduleAhead = rule.maxScheduleAhead ?? DEFAULT_MAX_SCHEDULE_AHEAD_SECONDS;
    if (rule.extendBefore !== undefined && rule.extendBefore > scheduleAhead) {
      warnings.push(`rule "${rule.name}": extendBefore (${formatDuration(rule.extendBefore)}) is longer than maxScheduleAhead (${formatDuration(scheduleAhead)}): an extension starts where the grant ends, so it can be asked only in a grant's last ${formatDuration(scheduleAhead)}`);
    }
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
