import { createHash, createHmac } from 'node:crypto';
import type http from 'node:http';
import { LISTED_WITH, type NotificationEvent } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { WebhookConfig } from './config.js';
import { guardedAgent, postOnce, type DeliveryEndpoint, type DeliveryOutcome } from './delivery.js';
import { resolveSecret, webhookSigningKey } from './secrets.js';

/** Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per key, space-separated. */
export function signatureHeader(keys: Buffer[], id: string, timestamp: number, body: string): string {
  return keys.map((key) => `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`).join(' ');
}

/**
 * A configured webhook endpoint: its resolved signing keys, its event filter, and one keep-alive
 * agent whose connections go only to addresses the SSRF guard passed.
 */
export class WebhookEndpoint implements DeliveryEndpoint {
  readonly channel = 'webhook';
  readonly key: string;
  readonly name: string;
  readonly destination: string;
  readonly maxConcurrency: number;
  /** Identifies the URL without revealing it: a 410 disables this URL, and a new one in the configuration starts afresh. */
  readonly urlHash: string;
  /** Scheme, host and port only: paths and queries may carry tokens, so logs and audit events get this. */
  readonly origin: string;
  private readonly url: URL;
  private readonly keys: Buffer[];
  private readonly events: ReadonlySet<NotificationEvent> | null;
  private readonly agent: http.Agent;

  constructor(
    config: WebhookConfig,
    private readonly allowPrivateNetworks: boolean,
    private readonly clock: Clock,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.name = config.name;
    this.key = `webhook:${config.name}`;
    this.destination = config.name;
    this.maxConcurrency = config.maxConcurrency;
    this.url = new URL(config.url);
    this.origin = this.url.origin;
    this.urlHash = createHash('sha256').update(config.url).digest('hex');
    const references = Array.isArray(config.secret) ? config.secret : [config.secret];
    this.keys = references.map((reference, index) => {
      const where = `notifiers.webhooks.${config.name}.secret${references.length > 1 ? `[${index}]` : ''}`;
      return webhookSigningKey(resolveSecret(reference, where, env), where);
    });
    this.events = config.events ? new Set(config.events) : null;
    this.agent = guardedAgent(this.url, allowPrivateNetworks, config.maxConcurrency);
  }

  wants(event: NotificationEvent): boolean {
    if (this.events === null || this.events.has(event)) return true;
    const listedWith = LISTED_WITH[event];
    return listedWith !== undefined && this.events.has(listedWith);
  }

  /** Named in `events` (not merely let through by its absence). */
  lists(event: NotificationEvent): boolean {
    return this.events?.has(event) ?? false;
  }

  /** POSTs the payload, signed now; resolves with the outcome, never rejects. */
  send(id: string, body: string, signal: AbortSignal): Promise<DeliveryOutcome> {
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    return postOnce({
      url: this.url,
      agent: this.agent,
      allowPrivateNetworks: this.allowPrivateNetworks,
      body,
      signal,
      clock: this.clock,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Greenlight-Webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(this.keys, id, timestamp, body),
      },
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
