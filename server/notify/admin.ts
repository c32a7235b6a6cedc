import { GreenlightError, notificationIdSchema, notificationQuerySchema, parseOrThrow, type Notification, type NotificationPage, type NotificationStatus } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';
import { afterCommit, audit, inTransaction, type Context } from '../domain/context.js';
import { requireAdmin } from '../domain/users.js';
import type { OutboxTable } from '../store/schema.js';

/** An outbox row as admins see it: where it goes and how it fares, never its payload. */
export function toNotification(row: OutboxTable): Notification {
  return {
    id: row.id,
    type: row.type as Notification['type'],
    channel: row.channel,
    destination: row.destination,
    requestId: row.request_id,
    status: row.status as NotificationStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
    lastError: row.last_error,
    lastStatus: row.last_status === null ? null : Number(row.last_status),
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
  };
}

/** Notifications newest first, optionally by status (`failed`: dead-lettered or refused). */
export async function listNotifications(ctx: Context, actor: Actor, input: unknown): Promise<NotificationPage> {
  requireAdmin(actor);
  const query = parseOrThrow(notificationQuerySchema, input, 'notification query');
  let select = ctx.store.db.selectFrom('outbox').selectAll();
  if (query.status) select = select.where('status', '=', query.status);
  if (query.cursor) select = select.where('id', '<', query.cursor);
  const rows = await select.orderBy('id', 'desc').limit(query.limit + 1).execute();
  const page = rows.slice(0, query.limit);
  return { notifications: page.map(toNotification), nextCursor: rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null };
}

/**
 * Sends a failed notification again with a fresh schedule (same id, same body, so receivers that
 * saw it can tell). Retrying a row of an endpoint a 410 disabled enables that endpoint again.
 */
export async function retryNotification(ctx: Context, actor: Actor, rawId: unknown): Promise<Notification> {
  requireAdmin(actor);
  const id = parseOrThrow(notificationIdSchema, rawId, 'notification id');
  const row = await inTransaction(ctx, async (trx) => {
    const current = await trx.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current) throw new GreenlightError('NOT_FOUND', `No notification ${id}.`);
    if (current.status !== 'failed') throw new GreenlightError('CONFLICT', `Notification ${id} is ${current.status}; only a failed one can be retried.`);
    if (current.channel === 'webhook' && !ctx.outbox?.webhookNames.has(current.destination)) {
      throw new GreenlightError('CONFLICT', `No webhook named "${current.destination}" is configured any more; add it to the hub configuration to send this again.`);
    }
    if ((current.channel === 'slack' || current.channel === 'teams') && !ctx.outbox?.endpointFor(current.channel, current.destination)) {
      throw new GreenlightError('CONFLICT', `No ${current.channel} endpoint for "${current.destination}" is configured any more; add it to the hub configuration to send this again.`);
    }
    if (current.channel === 'email' && !ctx.outbox?.email) {
      throw new GreenlightError('CONFLICT', 'Email is not configured any more; add notifiers.email to the hub configuration to send this again.');
    }
    const now = ctx.clock.now().toISOString();
    const changes = { status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null, lease_owner: null, updated_at: now };
    await trx.updateTable('outbox').set(changes).where('id', '=', id).where('status', '=', 'failed').execute();
    const disabled = await trx.deleteFrom('notify_endpoints').where('channel', '=', current.channel).where('name', '=', current.destination).executeTakeFirst();
    if (Number(disabled.numDeletedRows) > 0) {
      await audit(ctx, trx, { actor: actor.name, type: 'notification.endpoint_enabled', requestId: current.request_id, outcome: 'enabled', data: { channel: current.channel, destination: current.destination, notification: id } });
    }
    await audit(ctx, trx, { actor: actor.name, type: 'notification.retried', requestId: current.request_id, outcome: 'retried', data: { notification: id, event: current.type, channel: current.channel, destination: current.destination } });
    const outbox = ctx.outbox;
    if (outbox) afterCommit(trx, () => outbox.written());
    return { ...current, ...changes };
  });
  return toNotification(row);
}
