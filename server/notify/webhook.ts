import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { NotificationEvent } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { WebhookConfig } from './config.js';
import type { DeliveryEndpoint, DeliveryOutcome } from './delivery.js';
import { checkLiteralHost, guardedLookup, RefusedAddress } from './network-guard.js';
import { parseRetryAfter } from './retry.js';
import { resolveSecret, webhookSigningKey } from './secrets.js';


const ATTEMPT_TIMEOUT_MS = 15_000;

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
    const Agent = this.url.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: config.maxConcurrency, lookup: guardedLookup(allowPrivateNetworks) });
  }

  wants(event: NotificationEvent): boolean {
    return this.events === null || this.events.has(event);
  }

  /** Named in `events` (not merely let through by its absence). */
  lists(event: NotificationEvent): boolean {
    return this.events?.has(event) ?? false;
  }

  /** POSTs the payload, signed now; resolves with the outcome, never rejects. */
  send(id: string, body: string, signal: AbortSignal): Promise<DeliveryOutcome> {
    const literal = checkLiteralHost(this.url.hostname, this.allowPrivateNetworks);
    if (literal) return Promise.resolve({ kind: 'refused', error: literal.message });
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const request = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise<DeliveryOutcome>((resolve) => {
      let settled = false;
      const settle = (outcome: DeliveryOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const req = request(this.url, {
        method: 'POST',
        agent: this.agent,
        lookup: guardedLookup(this.allowPrivateNetworks),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Greenlight-Webhooks/1',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(this.keys, id, timestamp, body),
        },
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`)), ATTEMPT_TIMEOUT_MS);
      const onAbort = () => req.destroy(new Error('the hub is shutting down'));
      signal.addEventListener('abort', onAbort);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        // Drain what the receiver says so the connection can be reused; its body is not kept.
        res.resume();
        res.on('error', () => undefined);
        if (status >= 200 && status < 300) settle({ kind: 'delivered', status });
        else if (status === 410) settle({ kind: 'gone', status: 410 });
        else settle({ kind: 'failed', status, error: `HTTP ${status}`, retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.clock.now()) });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof RefusedAddress || error.code === 'EREFUSED_ADDRESS') settle({ kind: 'refused', error: error.message });
        else settle({ kind: 'failed', status: null, error: error.message || error.code || 'connection failed', retryAfterMs: null });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
