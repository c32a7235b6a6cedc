import type { OutboxTable } from '../store/schema.js';

/** A notification waiting for its first attempt; `lease` when this hub delivers it itself right after commit. */
export function pendingOutboxRow(row: {
  id: string;
  type: string;
  channel: string;
  destination: string;
  requestId: string | null;
  payload: string;
  timestamp: string;
  lease?: { leaseUntil: string; owner: string } | null;
}): OutboxTable {
  return {
    id: row.id,
    type: row.type,
    channel: row.channel,
    destination: row.destination,
    request_id: row.requestId,
    payload: row.payload,
    status: 'pending',
    attempts: 0,
    next_attempt_at: row.timestamp,
    lease_until: row.lease?.leaseUntil ?? null,
    lease_owner: row.lease?.owner ?? null,
    last_error: null,
    last_status: null,
    created_at: row.timestamp,
    updated_at: row.timestamp,
    delivered_at: null,
  };
}
