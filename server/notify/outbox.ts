import type { Transaction } from 'kysely';
import { CHAT_REFRESH_EVENT, type FrozenRule, type GreenlightRequest, type NotificationEvent } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import type { Database, OutboxTable, RequestsTable } from '../store/schema.js';
import { afterCommit, type Context } from '../domain/context.js';
import { buildView, parseRule, withoutSecrets } from '../domain/request-view.js';
import type { ChatEndpoint, OutgoingEvent } from './channel.js';
import { notifiersConfigSchema, type NotifiersConfig } from './config.js';
import type { DeliveryEndpoint } from './delivery.js';
import { EmailEndpoint } from './email.js';
import { enqueueEmails } from './email-outbox.js';
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
  /** Every endpoint by the name a policy gives it (`webhook:<name>`, `email`). */
  readonly endpoints: ReadonlyMap<string, DeliveryEndpoint>;
  private readonly webhooks: ReadonlyMap<string, WebhookEndpoint>;
  /** Set by a running dispatcher. */
  fastLane: FastLane | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    webhooks: WebhookEndpoint[],
    /** Where people reach this hub's console, for links in messages (the hub fills in its own address when not configured). */
    public publicUrl: string | null,
    readonly email: EmailEndpoint | null = null,
    /** Teams webhooks, keyed `teams:<name>`. */
    teams: TeamsEndpoint[] = [],
    /** The Slack app, when `notifiers.slack` is configured: one endpoint for every Slack target. */
    readonly slack: SlackApp | null = null,
  ) {
    this.webhooks = new Map(webhooks.map((endpoint) => [endpoint.name, endpoint]));
    const all: DeliveryEndpoint[] = [...webhooks, ...(email ? [email] : []), ...teams, ...(slack ? [slack] : [])];
    this.endpoints = new Map(all.map((endpoint) => [endpoint.key, endpoint]));
  }

  get webhookNames(): ReadonlySet<string> {
    return new Set(this.webhooks.keys());
  }

  get teamsNames(): ReadonlySet<string> {
    return new Set([...this.endpoints.values()].filter((endpoint) => endpoint.channel === 'teams').map((endpoint) => endpoint.name));
  }

  /** The endpoint a row of this channel and destination goes to, if it is still configured. */
  endpointFor(channel: string, destination: string): DeliveryEndpoint | undefined {
    if (channel === 'webhook') return this.webhooks.get(destination);
    if (channel === 'teams') return this.endpoints.get(`teams:${destination}`);
    const endpoint = this.endpoints.get(channel);
    return endpoint?.destination === null ? endpoint : undefined;
  }

  /** The chat endpoints (Slack, Teams) an event of this rule goes to, each with its row's destination and the policy target. */
  chatDestinationsFor(type: NotificationEvent, rule: FrozenRule, escalationStep: number | null): { endpoint: ChatEndpoint; destination: string; target: string }[] {
    const targets = new Set(rule.notify ?? []);
    if (type === 'request.escalated' && escalationStep !== null) for (const target of rule.escalation[escalationStep]?.channels ?? []) targets.add(target);
    const out: { endpoint: ChatEndpoint; destination: string; target: string }[] = [];
    for (const target of targets) {
      let endpoint: ChatEndpoint | null = null;
      if (target.startsWith('slack:')) endpoint = this.slack;
      else if (target.startsWith('teams:')) endpoint = (this.endpoints.get(target) as TeamsEndpoint | undefined) ?? null;
      // A target dropped from the configuration since the request was created is skipped.
      if (endpoint?.wants(type)) out.push({ endpoint, destination: endpoint.destination ?? target, target });
    }
    return out;
  }

  /** Gives the chat channels the hub's context (Slack reads the database when it sends). */
  attach(ctx: Context): void {
    for (const endpoint of this.endpoints.values()) if (endpoint instanceof SlackApp || endpoint instanceof TeamsEndpoint) endpoint.attach(ctx);
  }

  /** The webhooks an event of this rule goes to: those the rule (or the escalation step) names, less those filtering the event out. */
  destinationsFor(type: NotificationEvent, rule: FrozenRule, escalationStep: number | null): WebhookEndpoint[] {
    const targets = new Set(rule.notify ?? []);
    if (type === 'request.escalated' && escalationStep !== null) for (const target of rule.escalation[escalationStep]?.channels ?? []) targets.add(target);
    const out: WebhookEndpoint[] = [];
    for (const target of targets) {
      if (!target.startsWith('webhook:')) continue;
      // A webhook dropped from the configuration since the request was created is skipped.
      const endpoint = this.webhooks.get(target.slice('webhook:'.length));
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
  const webhooks = parsed.webhooks.map((webhook) => new WebhookEndpoint(webhook, parsed.allowPrivateNetworks, clock, env));
  const teams = (parsed.teams ?? []).map((hook) => new TeamsEndpoint(hook, parsed.allowPrivateNetworks, clock, env));
  const slack = parsed.slack ? new SlackApp(parsed.slack, env) : null;
  const outbox: Outbox = new Outbox(webhooks, publicUrl, parsed.email ? new EmailEndpoint(parsed.email, () => outbox.publicUrl, env) : null, teams, slack);
  return outbox;
}

/**
 * Writes one outbox row per destination of `type` for this request, inside `trx`, so the notification
 * exists exactly when the change it announces does. `row` is the request as this transaction leaves it;
 * `view` may be passed where the caller has it. Costs nothing for a rule that names no channel.
 */
/** Does this rule (or the escalation step that fired) name email for this event? */
function emailWanted(type: NotificationEvent, rule: FrozenRule, step: number | null): boolean {
  if (rule.notify?.includes('email')) return true;
  return type === 'request.escalated' && step !== null && (rule.escalation[step]?.channels ?? []).includes('email');
}

export async function enqueueNotifications(ctx: Context, trx: Transaction<Database>, type: NotificationEvent, row: RequestsTable, view?: GreenlightRequest): Promise<void> {
  const outbox = ctx.outbox;
  if (!outbox || outbox.endpoints.size === 0) return;
  const step = type === 'request.escalated' ? Number(row.escalation_level) - 1 : null;
  const rule = parseRule(row);
  const webhooks = outbox.destinationsFor(type, rule, step);
  const chats = outbox.chatDestinationsFor(type, rule, step);
  const emailed = outbox.email !== null && emailWanted(type, rule, step);
  if (webhooks.length === 0 && chats.length === 0 && !emailed) return;
  // What approvers see: never the grant token.
  const data = withoutSecrets(view ?? (await buildView(trx, row, null)));
  if (emailed) await enqueueEmails(ctx, trx, { type, row, rule, step, data });
  const timestamp = ctx.clock.now().toISOString();
  const event: OutgoingEvent = { type, timestamp, data };
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
  destinations: { endpoint: DeliveryEndpoint; destination: string; payload: string }[],
): Promise<void> {
  if (destinations.length === 0) return;
  const now = ctx.clock.now();
  const timestamp = now.toISOString();
  const lane = outbox.fastLane;
  const rows: OutboxTable[] = destinations.map(({ endpoint, destination, payload }) => {
    const lease = lane?.reserve(endpoint.key) ?? null;
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
      for (const written of fast) lane?.release(outbox.endpointFor(written.channel, written.destination)?.key ?? '');
    },
  );
  await trx.insertInto('outbox').values(rows).execute();
}
