import type { FrozenRule, ParsedNewRequest } from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';

/**
 * A request as it is submitted: pending at version 1 under its frozen rule, waiting on the rule's
 * approvers, with no deadline, decision or claim yet. Each way in (ordinary, break-glass) sets what
 * it changes on top.
 */
export function newRequestRecord(actor: Pick<Actor, 'id' | 'name' | 'tokenId'>, parsed: ParsedNewRequest, rule: FrozenRule, now: Date): RequestRecord {
  const iso = now.toISOString();
  return {
    id: newId('req', now),
    requester_id: actor.id,
    requester_name: actor.name,
    action: parsed.action,
    resource: parsed.resource,
    environment: parsed.environment,
    reason: parsed.reason,
    risk: parsed.risk,
    context: parsed.context,
    requested_ttl_seconds: parsed.requestedTtlSeconds ?? null,
    idempotency_key: parsed.idempotencyKey ?? null,
    status: 'pending',
    version: 1,
    rule,
    eligible_groups: rule.approvers,
    eligible_users: [],
    escalation_level: 0,
    escalation_round: 0,
    next_escalation_at: null,
    expires_at: null,
    claim_by: null,
    claim_until: null,
    created_at: iso,
    updated_at: iso,
    decided_at: null,
    decided_by: null,
    decided_for: null,
    not_before: parsed.notBefore ?? null,
    extends_jti: null,
    submitted_with_token: actor.tokenId,
  };
}
