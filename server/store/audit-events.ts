import type { AuditEvent, AuditType } from '../../protocol/index.js';
import type { AuditEventsTable } from './schema.js';

/**
 * An audit event's `data` column: the canonical JSON of the object the hub appended. Written by
 * `appendAudit` only, so it is decoded as written; the hash chain, not this, detects an edited row.
 */
export function decodeAuditData(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
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
