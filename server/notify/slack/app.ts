import { createHash } from 'node:crypto';
import { LogLevel, WebClient } from '@slack/web-api';
import { z } from 'zod';
import { notificationEventSchema, type NotificationEvent } from '../../../protocol/index.js';
import type { ChatEndpoint, OutgoingEvent } from '../channel.js';
import type { DeliveryOutcome } from '../delivery.js';
import { resolveSecret } from '../secrets.js';
import type { SlackConfig } from './config.js';
import { slackFailure } from './errors.js';
import { ChannelPacing } from './pacing.js';
import { readStoredJson } from '../../store/json.js';
import { ClaimWaitAborted } from '../../store/exclusively.js';

/** What a Slack outbox row asks for: post the request to a target, post an urgent alert about it, or rewrite every message of it. */
const slackRowSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('post'), target: z.string(), requestId: z.string() }),
  // `event` tells whom a direct-message alert is for; rows written before it existed have none (break-glass).
  z.object({ kind: z.literal('alert'), target: z.string(), requestId: z.string(), message: z.string(), event: notificationEventSchema.optional() }),
  z.object({ kind: z.literal('refresh'), requestId: z.string() }),
]);
export type SlackRow = z.infer<typeof slackRowSchema>;

/**
 * Carries out a row (outbox id `notificationId`) against Slack and the database: given by the hub once
 * it runs (Slack reads the request as it stands). Resolves with why nothing was posted when the row is
 * no longer due (an overdue review that is in by now), else null.
 */
export type SlackSender = (app: SlackApp, row: SlackRow, notificationId: string, signal: AbortSignal) => Promise<string | null>;

/** Slack posts when a request is created and when it escalates; every other change rewrites the posts. */
const POSTED_ON: ReadonlySet<NotificationEvent> = new Set(['request.created', 'request.escalated', 'request.break_glass', 'request.break_glass_overdue']);

/**
 * The Slack app: its Web API client (the official one, for every call), its signing secret for the
 * interactivity endpoint, and the outbox endpoint that posts and updates messages. Rows hold only
 * what to do; each attempt renders the request as it stands then, so a late or repeated row never
 * shows an old state.
 */
export class SlackApp implements ChatEndpoint {
  readonly channel = 'slack';
  readonly key = 'slack';
  readonly name = 'slack';
  /** Rows name their own Slack target (`slack:#ops`, `slack:dm`, `slack:refresh`). */
  readonly destination = null;
  readonly maxConcurrency = 4;
  readonly urlHash: string;
  readonly origin: string;
  readonly client: WebClient;
  readonly signingSecret: string;
  readonly matchByEmail: boolean;
  readonly pacing = new ChannelPacing();
  private sender: SlackSender | null = null;

  constructor(config: SlackConfig, env: NodeJS.ProcessEnv = process.env) {
    const token = resolveSecret(config.botToken, 'notifiers.slack.botToken', env);
    this.signingSecret = resolveSecret(config.signingSecret, 'notifiers.slack.signingSecret', env);
    this.matchByEmail = config.matchByEmail;
    const apiUrl = config.apiUrl.endsWith('/') ? config.apiUrl : `${config.apiUrl}/`;
    this.origin = new URL(apiUrl).origin;
    this.urlHash = createHash('sha256').update(apiUrl).digest('hex');
    // Retries and Slack's Retry-After belong to the outbox (durable, shared by every hub), not to the client.
    this.client = new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 15_000, logLevel: LogLevel.ERROR });
  }

  attach(sender: SlackSender): void {
    this.sender = sender;
  }

  wants(event: NotificationEvent): boolean {
    return POSTED_ON.has(event);
  }

  render(event: OutgoingEvent, target: string): string {
    if (event.urgent && event.message) return JSON.stringify({ kind: 'alert', target, requestId: event.data.id, message: event.message, event: event.type });
    return JSON.stringify({ kind: 'post', target, requestId: event.data.id, event: event.type });
  }

  refreshBody(requestId: string): string {
    return JSON.stringify({ kind: 'refresh', requestId });
  }

  /**
   * Once `signal` aborts (the hub is stopping), a row still waiting for another hub's claim is handed
   * back untried; a Slack call already under way runs to its own timeout, as its outcome must be recorded.
   */
  async send(id: string, body: string, signal: AbortSignal): Promise<DeliveryOutcome> {
    const sender = this.sender;
    if (!sender) return { kind: 'failed', status: null, error: 'the hub is still starting', retryAfterMs: null };
    if (signal.aborted) return { kind: 'aborted' };
    const row = readStoredJson(slackRowSchema, body);
    if (!row) return { kind: 'refused', error: 'not a Slack notification this hub understands' };
    try {
      const notDue = await sender(this, row, id, signal);
      return notDue === null ? { kind: 'delivered', status: 200 } : { kind: 'skipped', reason: notDue };
    } catch (error) {
      if (error instanceof ClaimWaitAborted) return { kind: 'aborted' };
      return slackFailure(error);
    }
  }

  close(): void {
    this.sender = null;
  }
}
