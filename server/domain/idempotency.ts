import type { Transaction } from 'kysely';
import { GreenlightError, type ParsedNewRequest } from '../../protocol/index.js';
import type { Database } from '../store/schema.js';
import type { RequestRecord } from '../store/requests.js';
import { breakGlassReviewStore } from '../store/break-glass-reviews.js';
import { canonicalJson } from '../store/json.js';

/**
 * What identifies a submission's content: everything the requester sent but the idempotency key,
 * break-glass and its incident included (a retried break-glass is the same use, never a second one,
 * and never an ordinary request that happens to read alike).
 */
export async function sameSubmission(trx: Transaction<Database>, existing: RequestRecord, parsed: ParsedNewRequest): Promise<boolean> {
  const sameContent =
    existing.action === parsed.action &&
    existing.resource === parsed.resource &&
    existing.environment === parsed.environment &&
    existing.reason === parsed.reason &&
    existing.risk === parsed.risk &&
    (existing.requested_ttl_seconds ?? null) === (parsed.requestedTtlSeconds ?? null) &&
    (existing.not_before ?? null) === (parsed.notBefore ?? null) &&
    canonicalJson(existing.context) === canonicalJson(parsed.context);
  if (!sameContent) return false;
  const review = await breakGlassReviewStore.ofRequest(trx, existing.id);
  return (review?.incident ?? null) === (parsed.breakGlass?.incident ?? null);
}

export const idempotencyMismatch = (key: string, existing: RequestRecord) =>
  new GreenlightError(
    'IDEMPOTENCY_MISMATCH',
    `The idempotency key "${key}" was already used for another request (${existing.id}: ${existing.action} ${existing.resource} in ${existing.environment}); use a new key for a different request.`,
  );
