import type { Transaction } from 'kysely';
import { CHAT_REFRESH_EVENT, type FrozenRule, type GreenlightRequest, type NotificationEvent } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Database, OutboxTable, RequestsTable } from '../store/schema.js';
import { afterCommit, type Context } from '../domain/context.js';
import { buildView, parseRule, withoutSecrets } from '../domain/request-view.js';
import type { ChannelEndpoint, OutgoingEvent } from './channel.js';
import { notifiersConfigSchema, type NotifiersConfig } from './config.js';
import { SlackApp } from './slack/app.js';
import { SLACK_REFRESH_TARGET, ruleNamesSlack } from './slack/targets.js';
import { TeamsEndpoint } from './teams/endpoint.js';
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
  readonly endpoints: ReadonlyMap<string, ChannelEndpoint>;
  /** Set by a running dispatcher. */
  fastLane: FastLane | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    endpoints: ChannelEndpoint[],
    /** Where people reach this hub's console, for links in messages (the hub fills in its own address when not configured). */
    public publicUrl: string | null,
    /** The Slack app, when `notifiers.slack` is configured; also an endpoint. */
    readonly slack: SlackApp | null = null,
  ) {
    this.endpoints = new Map([...endpoints, ...(slack ? [slack] : [])].map((endpoint) => [endpoint.name, endpoint]));
  }

  private namesOf(channel: string): ReadonlySet<string> {
    return new Set([...this.endpoints.values()].filter((endpoint) => endpoint.channel === channel).map((endpoint) => endpoint.name.replace(/^teams:/, '')));
  }

  get webhookNames(): ReadonlySet<string> {
    return this.namesOf('webhook');
  }

  get teamsNames(): ReadonlySet<string> {
    return this.namesOf('teams');
  }

  /** The endpoint that delivers an outbox row, if it is still configured. */
  endpointFor(row: Pick<OutboxTable, 'channel' | 'destination'>): ChannelEndpoint | undefined {
    if (row.channel === 'slack') return this.slack ?? undefined;
    return this.endpoints.get(row.destination);
  }

  /**
   * Where an event of this rule goes: the targets the rule (or the escalation step) names whose
   * endpoint is configured and wants the event, each with its row's destination.
   */
  destinationsFor(type: NotificationEvent, rule: FrozenRule, escalationStep: number | null): { endpoint: ChannelEndpoint; destination: string; target: string }[] {
    const targets = new Set(rule.notify ?? []);
    if (type === 'request.escalated' && escalationStep !== null) for (const target of rule.escalation[escalationStep]?.channels ?? []) targets.add(target);
    const out: { endpoint: ChannelEndpoint; destination: string; target: string }[] = [];
    for (const target of targets) {
      // A target dropped from the configuration since the request was created is skipped.
      const routed = this.route(target);
      if (routed?.endpoint.wants(type)) out.push({ ...routed, target });
    }
    return out;
  }

  private route(target: string): { endpoint: ChannelEndpoint; destination: string } | null {
    if (target.startsWith('webhook:')) {
      const endpoint = this.endpoints.get(target.slice('webhook:'.length));
      return endpoint?.channel === 'webhook' ? { endpoint, destination: endpoint.name } : null;
    }
    if (target.startsWith('teams:')) {
      const endpoint = this.endpoints.get(target);
      return endpoint ? { endpoint, destination: endpoint.name } : null;
    }
    if (target.startsWith('slack:') && this.slack) return { endpoint: this.slack, destination: target };
    return null;
  }

  /** Gives channels that read the database (Slack) the hub's context. */
  attach(ctx: Context): void {
    for (const endpoint of this.endpoints.values()) endpoint.attach?.(ctx);
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
    [
      ...parsed.webhooks.map((webhook) => new WebhookEndpoint(webhook, parsed.allowPrivateNetworks, clock, env)),
      ...parsed.teams.map((hook) => new TeamsEndpoint(hook, parsed.allowPrivateNetworks, clock, env)),
    ],
    publicUrl,
    parsed.slack ? new SlackApp(parsed.slack, env) : null,
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
  const data = withoutSecrets(view ?? (await buildView(trx, row, null)));
  const timestamp = ctx.clock.now().toISOString();
  const event: OutgoingEvent = { type, timestamp, data };
  await writeRows(ctx, trx, outbox, row.id, type, destinations.map(({ endpoint, destination, target }) => ({ endpoint, destination, payload: endpoint.render(event, target) })));
}

/**
 * Every change of a request whose rule names a Slack target queues one refresh: the Slack app then
 * rewrites every message posted for it with the request as it stands (votes, claim, outcome).
 */
export async function enqueueChatRefresh(ctx: Context, trx: Transaction<Database>, row: RequestsTable): Promise<void> {
  const outbox = ctx.outbox;
  const slack = outbox?.slack;
  if (!outbox || !slack || !ruleNamesSlack(parseRule(row))) return;
  await writeRows(ctx, trx, outbox, row.id, CHAT_REFRESH_EVENT, [{ endpoint: slack, destination: SLACK_REFRESH_TARGET, payload: slack.refreshBody(row.id) }]);
}

async function writeRows(
  ctx: Context,
  trx: Transaction<Database>,
  outbox: Outbox,
  requestId: string,
  type: string,
  destinations: { endpoint: ChannelEndpoint; destination: string; payload: string }[],
): Promise<void> {
  const now = ctx.clock.now();
  const timestamp = now.toISOString();
  const lane = outbox.fastLane;
  const rows: OutboxTable[] = destinations.map(({ endpoint, destination, payload }) => {
    const lease = lane?.reserve(endpoint.name) ?? null;
    return {
      id: newId('ntf', now),
      type,
      channel: endpoint.channel,
      destination,
      request_id: requestId,
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
      for (const written of fast) lane?.release(outbox.endpointFor(written)?.name ?? written.destination);
    },
  );
  await trx.insertInto('outbox').values(rows).execute();
}
