import { GreenlightError } from '../../protocol/index.js';
import type { RequestRecord } from '../store/requests.js';
import type { Actor } from './actor.js';

/**
 * A token made only to submit (without `requests:read`) follows what it submitted itself, not the
 * rest of its owner's requests and their grants, however it comes upon one: read by id, waited on,
 * or handed back for an idempotency key its owner used elsewhere. The refusal, or null.
 */
export function readBackRefusal(actor: Pick<Actor, 'id' | 'scopes' | 'tokenId'>, row: Pick<RequestRecord, 'requester_id' | 'submitted_with_token'>): GreenlightError | null {
  if (actor.scopes.includes('requests:read')) return null;
  if (row.requester_id === actor.id && row.submitted_with_token !== null && row.submitted_with_token === actor.tokenId) return null;
  return new GreenlightError(
    'INSUFFICIENT_SCOPE',
    'This token lacks the "requests:read" scope it needs to read requests it did not submit itself. Use a token that has it (greenlight token create --scope requests:read), or a new idempotency key.',
  );
}
