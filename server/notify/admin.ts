import { GreenlightError, notificationIdSchema, notificationQuerySchema, parseOrThrow, type Notification, type NotificationPage } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';
import { afterCommit, audit, inTransaction, type Context } from '../domain/context.js';
import { requireAdmin } from '../domain/users.js';
import { outboxStore, type OutboxChanges, type OutboxRecord } from '../store/outbox.js';

/** An outbox row as admins see it: where it goes and how it fares, never its payload. */
export function toNotification(row: OutboxRecord): Notification {
  return {
    id: row.id,
    type: row.type as Notification['type'],
    channel: row.channel,
    destination: row.destination,
    requestId: row.requestId,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.nextAttemptAt : null,
    lastError: row.lastError,
    lastStatus: row.lastStatus,
    createdAt: row.createdAt,
    deliveredAt: row.deliveredAt,
  };
}

/** Notifications newest first, optionally by status (`failed`: dead-lettered or refused). */
export async function listNotifications(ctx: Context, actor: Actor, input: unknown): Promise<NotificationPage> {
  requireAdmin(actor);
  const query = parseOrThrow(notificationQuerySchema, input, 'notification query');
  const rows = await outboxStore.page(ctx.store.db, query);
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
    const current = await outboxStore.byId(trx, id);
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
    const changes = { status: 'pending', attempts: 0, nextAttemptAt: now, leaseUntil: null, leaseOwner: null, updatedAt: now } satisfies OutboxChanges;
    // Another admin may have retried it meanwhile: one retry, one audit event.
    if (!(await outboxStore.retryFailed(trx, id, changes))) throw new GreenlightError('CONFLICT', `Notification ${id} was retried by someone else meanwhile.`);
    const disabled = await trx.deleteFrom('notify_endpoints').where('channel', '=', current.channel).where('name', '=', current.destination).executeTakeFirst();
    if (Number(disabled.numDeletedRows) > 0) {
      await audit(ctx, trx, { actor: actor.name, type: 'notification.endpoint_enabled', requestId: current.requestId, outcome: 'enabled', data: { channel: current.channel, destination: current.destination, notification: id } });
    }
    await audit(ctx, trx, { actor: actor.name, type: 'notification.retried', requestId: current.requestId, outcome: 'retried', data: { notification: id, event: current.type, channel: current.channel, destination: current.destination } });
    const outbox = ctx.outbox;
    if (outbox) afterCommit(trx, () => outbox.written());
    return { ...current, ...changes };
  });
  return toNotification(row);
}
