import { createHash } from 'node:crypto';
import type { GrantPayload } from '../../protocol/index.js';
import type { RequestRecord } from '../store/requests.js';
import { canonicalJson } from '../store/json.js';

/** SHA-256 (hex) of the canonical JSON of {action, resource, environment, context}: what was approved, so the thing executed can be checked against it. */
export function payloadHashOf(payload: GrantPayload): string {
  return hashOf(payload.action, payload.resource, payload.environment, payload.context);
}

function hashOf(action: string, resource: string, environment: string, context: unknown): string {
  const body = canonicalJson({ action, resource, environment, context });
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

export function payloadHash(row: Pick<RequestRecord, 'action' | 'resource' | 'environment' | 'context'>): string {
  return payloadHashOf({ action: row.action, resource: row.resource, environment: row.environment, context: row.context });
}

/** The hash of a request row as stored (its context JSON text); a context edited into text that is not JSON hashes as that text, which no grant was issued for. */
export function storedPayloadHash(row: { action: string; resource: string; environment: string; context: string }): string {
  let context: unknown;
  try {
    context = JSON.parse(row.context);
  } catch {
    context = row.context;
  }
  return hashOf(row.action, row.resource, row.environment, context);
}
