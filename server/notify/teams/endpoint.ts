import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { NotificationEvent } from '../../../protocol/index.js';
import type { Clock } from '../../clock.js';
import type { ChatEndpoint, OutgoingEvent } from '../channel.js';
import { guardedAgent, postOnce, type DeliveryOutcome, type RowSubject } from '../delivery.js';
import { resolveSecret } from '../secrets.js';
import { notDueOutcome } from '../no-longer-due.js';
import { renderTeamsMessage } from './card.js';
import { teamsUrlSchema, type TeamsWebhookConfig } from './config.js';

/** Requests announced in Teams: every change a person would want to see; grants stay in the app. */
const TEAMS_EVENTS: ReadonlySet<NotificationEvent> = new Set(['request.created', 'request.escalated', 'request.reminded', 'request.decided', 'request.expired', 'request.cancelled', 'request.break_glass', 'request.break_glass_overdue']);

/** A Teams incoming webhook (or Workflows URL): the card is rendered when the row is written, so every attempt sends the same bytes. */
export class TeamsEndpoint implements ChatEndpoint {
  readonly channel = 'teams';
  readonly maxConcurrency = 2;
  /** `teams:<name>`, as the policy names it. */
  readonly key: string;
  readonly name: string;
  readonly destination: string;
  readonly urlHash: string;
  readonly origin: string;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private publicUrl: () => string = () => '';
  private noLongerDue: (row: RowSubject) => Promise<string | null> = () => Promise.resolve(null);

  constructor(
    config: TeamsWebhookConfig,
    private readonly allowPrivateNetworks: boolean,
    private readonly clock: Clock,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.key = `teams:${config.name}`;
    this.name = config.name;
    this.destination = config.name;
    const where = `notifiers.teams.${config.name}.url`;
    const resolved = resolveSecret(config.url, where, env);
    if (!teamsUrlSchema.safeParse(resolved).success) throw new Error(`${where}: must be an http:// or https:// URL`);
    this.url = new URL(resolved);
    this.origin = this.url.origin;
    this.urlHash = createHash('sha256').update(resolved).digest('hex');
    this.agent = guardedAgent(this.url, allowPrivateNetworks, this.maxConcurrency);
  }

  /**
   * Where the card's buttons point: the hub's public address, known once it runs; and why a card, when
   * its turn comes, is no longer due (null when it is).
   */
  attach(publicUrl: () => string, noLongerDue: (row: RowSubject) => Promise<string | null>): void {
    this.publicUrl = publicUrl;
    this.noLongerDue = noLongerDue;
  }

  wants(event: NotificationEvent): boolean {
    return TEAMS_EVENTS.has(event);
  }

  render(event: OutgoingEvent): string {
    return renderTeamsMessage(event.type, event.data, this.publicUrl(), event.message ?? null);
  }

  async send(_id: string, body: string, signal: AbortSignal, row: RowSubject): Promise<DeliveryOutcome> {
    const notDue = await notDueOutcome('card', () => this.noLongerDue(row));
    if (notDue) return notDue;
    return postOnce({ url: this.url, agent: this.agent, allowPrivateNetworks: this.allowPrivateNetworks, body, signal, clock: this.clock, headers: { 'content-type': 'application/json', 'user-agent': 'Greenlight-Teams/1' } });
  }

  close(): void {
    this.agent.destroy();
  }
}
