import type { Transaction } from 'kysely';
import { CHAT_REFRESH_EVENT, type FrozenRule, type GreenlightRequest, type NotificationEvent } from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { Database } from '../store/schema.js';
import type { RequestRecord } from '../store/requests.js';
import { outboxStore, type OutboxRecord } from '../store/outbox.js';
import { afterCommit, type Context } from '../domain/context.js';
import { buildView, withoutSecrets, viewReader } from '../domain/request-view.js';
import { writePendingAudit } from '../domain/audit.js';

import type { Checkpoint } from '../domain/checkpoints.js';
import { enqueueEmails } from './email-outbox.js';
import { pendingOutboxRow } from './outbox-row.js';
import { targetsOf, type ChainPosition } from './event-targets.js';
import type { OutgoingEvent } from './channel.js';
import type { DeliveryEndpoint } from './delivery.js';
import type { Outbox } from './outbox.js';
import { SLACK_REFRESH_TARGET, ruleNamesSlack } from './slack/targets.js';

/** Does this rule (or an escalation step the event reaches) name email for this event? */
const emailWanted = (type: NotificationEvent, rule: FrozenRule, at: ChainPosition): boolean => targetsOf(type, rule, at).has('email');

/** An event people must look at now, with the one line every channel leads with. */
export interface UrgentAlert {
  message: string;
}

export async function enqueueNotifications(ctx: Context, trx: Transaction<Database>, type: NotificationEvent, row: RequestRecord, view?: GreenlightRequest, alert?: UrgentAlert): Promise<void> {
  const outbox = ctx.outbox;
  if (!outbox || outbox.endpoints.size === 0) return;
  const step = type === 'request.escalated' ? Number(row.escalation_level) - 1 : null;
  const rule = row.rule;
  const webhooks = outbox.destinationsFor(type, rule, row);
  const chats = outbox.chatDestinationsFor(type, rule, row);
  const emailed = outbox.email !== null && emailWanted(type, rule, row);
  if (webhooks.length === 0 && chats.length === 0 && !emailed) return;
  // What approvers see: never the grant token.
  // The view's timeline reads the audit log: this transaction's events must be written first.
  if (!view) await writePendingAudit(trx);
  const data = withoutSecrets(view ?? (await buildView(viewReader(ctx, trx), row, null)));
  if (emailed) await enqueueEmails(ctx, trx, { type, row, rule, step, data, alert: alert?.message ?? null });
  const timestamp = ctx.clock.now().toISOString();
  const event: OutgoingEvent = alert ? { type, timestamp, urgent: true, message: alert.message, data } : { type, timestamp, data };
  const payload = JSON.stringify(event);
  await writeRows(ctx, trx, outbox, row.id, type, [
    ...webhooks.map((endpoint) => ({ endpoint, destination: endpoint.name, payload })),
    ...chats.map(({ endpoint, destination, target }) => ({ endpoint, destination, payload: endpoint.render(event, target) })),
  ]);
}

/**
 * Every change of a request whose rule names a Slack target queues one refresh: the Slack app then
 * rewrites every message posted for it with the request as it stands (votes, claim, outcome).
 */
export async function enqueueChatRefresh(ctx: Context, trx: Transaction<Database>, row: RequestRecord): Promise<void> {
  const outbox = ctx.outbox;
  const slack = outbox?.slack;
  if (!outbox || !slack || !ruleNamesSlack(row.rule)) return;
  await writeRows(ctx, trx, outbox, row.id, CHAT_REFRESH_EVENT, [{ endpoint: slack, destination: SLACK_REFRESH_TARGET, payload: slack.refreshBody(row.id) }]);
}

async function writeRows(
  ctx: Context,
  trx: Transaction<Database>,
  outbox: Outbox,
  requestId: string,
  type: string,
  destinations: { endpoint: DeliveryEndpoint; destination: string; payload: string }[],
): Promise<void> {
  if (destinations.length === 0) return;
  const now = ctx.clock.now();
  const timestamp = now.toISOString();
  const lane = outbox.fastLane;
  const rows: OutboxRecord[] = destinations.map(({ endpoint, destination, payload }) =>
    pendingOutboxRow({ id: newId('ntf', now), type, channel: endpoint.channel, destination, requestId, payload, timestamp, lease: lane?.reserve(endpoint.key) }),
  );
  const fast = rows.filter((written) => written.leaseOwner !== null);
  // Registered before the insert, so a failing insert hands the reserved slots back too.
  afterCommit(
    trx,
    () => {
      if (fast.length) lane?.handOff(fast);
      if (fast.length < rows.length) outbox.written();
    },
    () => {
      for (const written of fast) lane?.release(outbox.endpointFor(written.channel, written.destination)?.key ?? '');
    },
  );
  await outboxStore.insert(trx, rows);
}

/**
 * An audit checkpoint goes to every webhook that lists `audit.checkpoint` in its `events` (an endpoint
 * without a list gets its rules' request events only): a copy of the evidence outside the database.
 */
export async function enqueueCheckpointNotifications(ctx: Context, trx: Transaction<Database>, checkpoint: Checkpoint): Promise<void> {
  const outbox = ctx.outbox;
  if (!outbox) return;
  const destinations = outbox.webhooksListing('audit.checkpoint');
  if (destinations.length === 0) return;
  const now = ctx.clock.now();
  const timestamp = now.toISOString();
  const payload = JSON.stringify({ type: 'audit.checkpoint', timestamp, data: checkpoint });
  const rows: OutboxRecord[] = destinations.map((endpoint) =>
    pendingOutboxRow({ id: newId('ntf', now), type: 'audit.checkpoint', channel: endpoint.channel, destination: endpoint.name, requestId: null, payload, timestamp }),
  );
  afterCommit(trx, () => outbox.written());
  await outboxStore.insert(trx, rows);
}
