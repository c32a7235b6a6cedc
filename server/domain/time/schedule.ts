import { GreenlightError, type FrozenRule } from '../../../protocol/index.js';
import type { RequestRecord } from '../../store/requests.js';
import { DEFAULT_MAX_SCHEDULE_AHEAD_SECONDS, grantTimes, startProblem, type GrantTimes } from './access-start.js';

/** A requested start the rule can't take, as a 400 naming the field. */
export function checkStart(rule: FrozenRule, notBefore: string, now: Date, what: 'request' | 'decision'): void {
  const problem = startProblem(Date.parse(notBefore), now.getTime(), rule.maxScheduleAheadSeconds ?? DEFAULT_MAX_SCHEDULE_AHEAD_SECONDS);
  if (problem) throw new GreenlightError('INVALID_INPUT', `Invalid ${what}: notBefore: ${problem}`);
}

/** The access a request would get if approved at `approvedAt`, cut to its rule's windows. */
export function plannedAccess(row: Pick<RequestRecord, 'not_before' | 'requested_ttl_seconds'>, rule: FrozenRule, approvedAt: Date): GrantTimes {
  return grantTimes(
    {
      approvedAt: approvedAt.getTime(),
      notBefore: row.not_before ? Date.parse(row.not_before) : null,
      requestedTtlSeconds: row.requested_ttl_seconds,
      grantTtlSeconds: rule.grantTtlSeconds,
    },
    rule.windows ?? [],
  );
}

export function outsideWindow(rule: FrozenRule, nextStart: number | null): GreenlightError {
  const next = nextStart === null ? 'no window opens in the next week' : `the next window starts at ${new Date(nextStart).toISOString()}; ask for access from then (notBefore)`;
  return new GreenlightError('OUTSIDE_WINDOW', `Rule "${rule.name}" allows access only inside its windows, and this access would fall outside all of them; ${next}.`);
}
