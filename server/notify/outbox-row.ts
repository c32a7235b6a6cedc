import type { OutboxRecord } from '../store/outbox.js';

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
}): OutboxRecord {
  return {
    id: row.id,
    type: row.type,
    channel: row.channel,
    destination: row.destination,
    requestId: row.requestId,
    payload: row.payload,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: row.timestamp,
    leaseUntil: row.lease?.leaseUntil ?? null,
    leaseOwner: row.lease?.owner ?? null,
    lastError: null,
    lastStatus: null,
    createdAt: row.timestamp,
    updatedAt: row.timestamp,
    deliveredAt: null,
  };
}
