import type { RequestsTable } from '../../store/schema.js';
import type { LoggedSubmission } from './replay.js';
import { shown, type StateFinding } from './compare.js';

/** The columns a request keeps as submitted: no transition ever changes them. */
export type SubmittedRow = Pick<RequestsTable, 'id' | 'requester_name' | 'action' | 'resource' | 'environment' | 'reason' | 'risk' | 'rule' | 'extends_jti'>;

/** The frozen rule's name, from the row's JSON; the text itself when it holds none. */
function ruleName(rule: string): string {
  try {
    const parsed: unknown = JSON.parse(rule);
    if (parsed && typeof parsed === 'object' && 'name' in parsed && typeof parsed.name === 'string') return parsed.name;
  } catch {
    // Not JSON: shown as it stands.
  }
  return rule;
}

/**
 * What a request row says was asked against what its submission recorded. A field an older hub's
 * event does not hold (null in `logged`, save `extends`) is not compared.
 */
export function compareSubmission(row: SubmittedRow, logged: LoggedSubmission): StateFinding[] {
  const pairs: [string, string | null, string | null][] = [
    ['requester_name', row.requester_name, logged.requester],
    ['action', row.action, logged.action],
    ['resource', row.resource, logged.resource],
    ['environment', row.environment, logged.environment],
    ['reason', row.reason, logged.reason],
    ['risk', row.risk, logged.risk],
    ['rule', ruleName(row.rule), logged.rule],
  ];
  const findings: StateFinding[] = [];
  const differs = (field: string, state: string | null, log: string | null) =>
    findings.push({ reason: 'state_disagrees', table: 'requests', requestId: row.id, field, state, log, problem: `request ${row.id}: ${field} is ${shown(state)} but its audit events say ${shown(log)}` });
  for (const [field, state, log] of pairs) if (log !== null && state !== log) differs(field, state, log);
  if ((row.extends_jti ?? null) !== logged.extends) differs('extends_jti', row.extends_jti ?? null, logged.extends);
  return findings;
}

/**
 * A granted request whose action, resource, environment and context no longer hash to what its grant
 * was issued for (as the issue event recorded it, or for older events the grant row): the console
 * would show something other than what was approved.
 */
export function comparePayload(requestId: string, jti: string, requestHash: string, issuedFor: string): StateFinding[] {
  if (requestHash === issuedFor) return [];
  return [
    {
      reason: 'state_disagrees',
      table: 'requests',
      requestId,
      jti,
      field: 'payload_hash',
      state: requestHash,
      log: issuedFor,
      problem: `request ${requestId}: its action, resource, environment and context hash to "${requestHash}", but its grant ${jti} was issued for "${issuedFor}": they were changed after approval`,
    },
  ];
}
