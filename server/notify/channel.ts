import type { GreenlightRequest, NotificationEvent } from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import type { DeliveryOutcome } from './delivery.js';

/** One event as a channel renders it into the body of an outbox row. */
export interface OutgoingEvent {
  type: NotificationEvent;
  timestamp: string;
  /** The request as approvers see it: never the grant token. */
  data: GreenlightRequest;
}

/**
 * A place notifications go: a webhook, a Teams webhook, or the Slack app. The dispatcher claims its
 * rows, gives each to `send` and files the outcome the same way for every channel.
 */
export interface ChannelEndpoint {
  /** `webhook`, `slack` or `teams`: the outbox row's channel and the metrics label. */
  readonly channel: string;
  /** This endpoint's key in the outbox; the `destination` of its rows unless `claimsWholeChannel`. */
  readonly name: string;
  /** Slack: every row of the channel (destinations name Slack targets), delivered by the one app. */
  readonly claimsWholeChannel: boolean;
  readonly maxConcurrency: number;
  /** Identifies the URL without revealing it (410 Gone disables this URL only). */
  readonly urlHash: string;
  /** Scheme, host and port: safe for logs. */
  readonly origin: string;
  /** Whether this event goes out here at all. */
  wants(event: NotificationEvent): boolean;
  /** The row body for `target` (the policy's name for this destination). */
  render(event: OutgoingEvent, target: string): string;
  /** Sends one row; resolves with the outcome, never rejects. */
  send(id: string, body: string, signal: AbortSignal): Promise<DeliveryOutcome>;
  /** Called once the hub's context exists, for channels that read the database when they send. */
  attach?(ctx: Context): void;
  close(): void;
}
