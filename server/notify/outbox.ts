import type { Transaction } from 'kysely';
import type { FrozenRule, GreenlightRequest, NotificationEvent } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Database, OutboxTable, RequestsTable } from '../store/schema.js';
import { afterCommit, type Context } from '../domain/context.js';
import { buildView, parseRule, withoutSecrets } from '../domain/request-view.js';
import { writePendingAudit } from '../domain/audit.js';
import { notifiersConfigSchema, type NotifiersConfig } from './config.js';
import { WebhookEndpoint } from './webhook.js';

/**
 * The dispatcher's fast lane: a row written with a slot reserved on its endpoint is leased to this
 * hub from the start and handed over in memory after commit, so it goes out without waiting for a
 * claim of its own. The lease keeps it safe: if the hand-over never happens (the hub died), the row
 * is claimed like any other once the lease ends.
 */
export interface FastLane {
  /** A free slot on this endpoint, held until `handOff` or `release`; null when there is none. */
  reserve(endpoint: string): { owner: string; leaseUntil: string } | null;
  handOff(rows: OutboxTable[]): void;
  release(endpoint: string): void;
}

/**
 * The hub's notification channels and where each event goes. `enqueueNotifications` writes the rows
 * inside the caller's transaction; the dispatcher hears of them once that transaction has committed.
 */
export class Outbox {
  readonly endpoints: ReadonlyMap<string, WebhookEndpoint>;
  /** Set by a running dispatcher. */
  fastLane: FastLane | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    endpoints: WebhookEndpoint[],
    /** Where people reach this hub's console, for links in messages (the hub fills in its own address when not configured). */
    public publicUrl: string | null,
  ) {
    this.endpoints = new Map(endpoints.map((endpoint) => [endpoint.name, endpoint]));
  }

  get webhookNames(): ReadonlySet<string> {
    return new Set(this.endpoints.keys());
  }

  /** The webhooks an event of this rule goes to: those the rule (or the escalation step) names, less those filtering the event out. */
  destinationsFor(type: NotificationEvent, rule: FrozenRule, escalationStep: number | null): WebhookEndpoint[] {
    const targets = new Set(rule.notify ?? []);
    if (type === 'request.escalated' && escalationStep !== null) for (const target of rule.escalation[escalationStep]?.channels ?? []) targets.add(target);
    const out: WebhookEndpoint[] = [];
    for (const target of targets) {
      if (!target.startsWith('webhook:')) continue;
      // A webhook dropped from the configuration since the request was created is skipped.
      const endpoint = this.endpoints.get(target.slice('webhook:'.length));
      if (endpoint?.wants(type)) out.push(endpoint);
    }
    return out;
  }

  written(): void {
    for (const listener of this.listeners) listener();
  }

  onWritten(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const endpoint of this.endpoints.values()) endpoint.close();
  }
}

/** Builds the outbox from the `notifiers:` configuration, resolving secrets now so a bad one stops the start. */
export function createOutbox(config: NotifiersConfig | undefined, clock: Clock, publicUrl: string | null, env: NodeJS.ProcessEnv = process.env): Outbox {
  const parsed = notifiersConfigSchema.parse(config ?? {});
  return new Outbox(
    parsed.webhooks.map((webhook) => new WebhookEndpoint(webhook, parsed.allowPrivateNetworks, clock, env)),
    publicUrl,
  );
}

/**
 * Writes one outbox row per destination of `type` for this request, inside `trx`, so the notification
 * exists exactly when the change it announces does. `row` is the request as this transaction leaves it;
 * `view` may be passed where the caller has it. Costs nothing for a rule that names no channel.
 */
export async function enqueueNotifications(ctx: Context, trx: Transaction<Database>, type: NotificationEvent, row: RequestsTable, view?: GreenlightRequest): Promise<void> {
  const outbox = ctx.outbox;
  if (!outbox || outbox.endpoints.size === 0) return;
  const step = type === 'request.escalated' ? Number(row.escalation_level) - 1 : null;
  const destinations = outbox.destinationsFor(type, parseRule(row), step);
  if (destinations.length === 0) return;
  // What approvers see: never the grant token.
  if (!view) await writePendingAudit(trx);
  const data = withoutSecrets(view ?? (await buildView(trx, row, null)));
  const now = ctx.clock.now();
  const timestamp = now.toISOString();
  const payload = JSON.stringify({ type, timestamp, data });
  const lane = outbox.fastLane;
  const rows: OutboxTable[] = destinations.map((endpoint) => {
    const lease = lane?.reserve(endpoint.name) ?? null;
    return {
      id: newId('ntf', now),
      type,
      channel: endpoint.channel,
      destination: endpoint.name,
      request_id: row.id,
      payload,
      status: 'pending',
      attempts: 0,
      next_attempt_at: timestamp,
      lease_until: lease?.leaseUntil ?? null,
      lease_owner: lease?.owner ?? null,
      last_error: null,
      last_status: null,
      created_at: timestamp,
      updated_at: timestamp,
      delivered_at: null,
    };
  });
  const fast = rows.filter((written) => written.lease_owner !== null);
  // Registered before the insert, so a failing insert hands the reserved slots back too.
  afterCommit(
    trx,
    () => {
      if (fast.length) lane?.handOff(fast);
      if (fast.length < rows.length) outbox.written();
    },
    () => {
      for (const written of fast) lane?.release(written.destination);
    },
  );
  await trx.insertInto('outbox').values(rows).execute();
}
