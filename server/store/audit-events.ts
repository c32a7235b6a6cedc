import { createHash } from 'node:crypto';
import type { AuditEvent, AuditType } from '../../protocol/index.js';
import type { AuditEventsTable } from './schema.js';
import { canonicalJson } from './json.js';

/** An event's link in the chain: SHA-256 of the previous hash and the event's canonical JSON. */
export function hashEvent(row: Omit<AuditEventsTable, 'hash'>): string {
  const body = canonicalJson({
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    type: row.type,
    requestId: row.request_id,
    action: row.action,
    resource: row.resource,
    environment: row.environment,
    outcome: row.outcome,
    data: row.data,
  });
  return createHash('sha256').update(row.prev_hash).update('\n').update(body).digest('hex');
}

/**
 * An audit event's `data` column: the canonical JSON of the object the hub appended. The hash chain,
 * not this, detects an edited row; one edited into something that is not a JSON object is shown as
 * the text it holds, so the rest of the history stays readable and exportable.
 */
export function decodeAuditData(text: string): Record<string, unknown> {
  try {
    const data: unknown = JSON.parse(text);
    if (data !== null && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  } catch {
    // Falls through to the raw text.
  }
  return { unreadable: text };
}

/** The type column holds what `appendAudit` was given, an AuditType. */
export const decodeAuditType = (text: string): AuditType => text as AuditType;

/** An audit row without its data, as clients see it. */
export function toAuditEventFields(row: AuditEventsTable): Omit<AuditEvent, 'data'> {
  return {
    seq: Number(row.seq),
    at: row.at,
    actor: row.actor,
    type: decodeAuditType(row.type),
    requestId: row.request_id,
    action: row.action,
    resource: row.resource,
    environment: row.environment,
    outcome: row.outcome,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export function toAuditEvent(row: AuditEventsTable): AuditEvent {
  return { ...toAuditEventFields(row), data: decodeAuditData(row.data) };
}
