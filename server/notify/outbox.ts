import { isSlackTarget, isTeamsTarget, type FrozenRule, type NotificationEvent } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { OutboxRecord } from '../store/outbox.js';
import type { ChatEndpoint } from './channel.js';
import { notifiersConfigSchema, type NotifiersConfig } from './config.js';
import type { DeliveryEndpoint } from './delivery.js';
import { EmailEndpoint } from './email.js';
import { targetsOf, type ChainPosition } from './event-targets.js';
import { SlackApp } from './slack/app.js';
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
  handOff(rows: OutboxRecord[]): void;
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

  /** The webhooks whose `events` list names this event (an audit checkpoint goes only to those). */
  webhooksListing(type: NotificationEvent): WebhookEndpoint[] {
    return [...this.webhooks.values()].filter((endpoint) => endpoint.lists(type));
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
  chatDestinationsFor(type: NotificationEvent, rule: FrozenRule, at: ChainPosition): { endpoint: ChatEndpoint; destination: string; target: string }[] {
    const targets = targetsOf(type, rule, at);
    const out: { endpoint: ChatEndpoint; destination: string; target: string }[] = [];
    for (const target of targets) {
      let endpoint: ChatEndpoint | null = null;
      if (isSlackTarget(target)) endpoint = this.slack;
      else if (isTeamsTarget(target)) endpoint = (this.endpoints.get(target) as TeamsEndpoint | undefined) ?? null;
      // A target dropped from the configuration since the request was created is skipped.
      if (endpoint?.wants(type)) out.push({ endpoint, destination: endpoint.destination ?? target, target });
    }
    return out;
  }

  /** The webhooks an event of this rule goes to: those the rule (or an escalation step it reaches) names, less those filtering the event out. */
  destinationsFor(type: NotificationEvent, rule: FrozenRule, at: ChainPosition): WebhookEndpoint[] {
    const targets = targetsOf(type, rule, at);
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
