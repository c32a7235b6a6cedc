/** One attempt's result, as the dispatcher files it. */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth another attempt: a non-2xx answer, a timeout, a refused or reset connection, a busy mail server. */
  | { kind: 'failed'; status: number | null; error: string; retryAfterMs: number | null }
  /** 410 Gone: the receiver asks never to be called again. */
  | { kind: 'gone'; status: 410 }
  /** The endpoint resolves to an address notifications may not reach; retrying will not change that. */
  | { kind: 'refused'; error: string };

/**
 * Where outbox rows of one channel go: a webhook endpoint, the SMTP server. The dispatcher claims an
 * endpoint's rows, sends each with `send`, and files the outcome; it knows nothing else of channels.
 */
export interface DeliveryEndpoint {
  readonly channel: string;
  /** How a policy names it, unique across channels: `webhook:deploy-bot`, `email`. */
  readonly key: string;
  /** For logs and audit events. */
  readonly name: string;
  /** The `destination` of this endpoint's rows; null when its rows name their own recipients (email: the user). */
  readonly destination: string | null;
  readonly maxConcurrency: number;
  /** Identifies where it sends without revealing it: a 410 disables this address, a new one starts afresh. */
  readonly urlHash: string;
  /** Scheme, host and port only, for logs and audit events. */
  readonly origin: string;
  /** Resolves with the outcome, never rejects. */
  send(id: string, payload: string, signal: AbortSignal): Promise<DeliveryOutcome>;
  close(): void;
}
