import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../clock.js';
import { checkLiteralHost, guardedLookup, RefusedAddress } from './network-guard.js';
import { parseRetryAfter } from './retry.js';

/** One attempt's result, as the dispatcher files it. */
export type DeliveryOutcome =
  | { kind: 'delivered'; status: number }
  /** Worth another attempt: a non-2xx answer, a timeout, a refused or reset connection, a busy mail server. */
  | { kind: 'failed'; status: number | null; error: string; retryAfterMs: number | null }
  /** 410 Gone: the receiver asks never to be called again. */
  | { kind: 'gone'; status: 410 }
  /** Retrying will not change it: the endpoint resolves to an address notifications may not reach, or the mail server rejected the message for good. */
  | { kind: 'refused'; error: string; status?: number }
  /** Not sent, and never will be: what it says no longer holds (a request decided since, a recipient disabled). Not a failure. */
  | { kind: 'skipped'; reason: string }
  /** The hub's stop cut the attempt short: nothing is known of it, so it is handed back uncounted. */
  | { kind: 'aborted' };

/** What an outbox row announces: for a channel that checks, when it gets to the row, whether that still calls for it. */
export interface RowSubject {
  type: string;
  requestId: string | null;
}

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
  send(id: string, payload: string, signal: AbortSignal, subject: RowSubject): Promise<DeliveryOutcome>;
  close(): void;
}

const ATTEMPT_TIMEOUT_MS = 15_000;

/** A keep-alive agent whose connections go only to addresses the SSRF guard passed. */
export function guardedAgent(url: URL, allowPrivateNetworks: boolean, maxSockets: number): http.Agent {
  const Agent = url.protocol === 'https:' ? https.Agent : http.Agent;
  return new Agent({ keepAlive: true, maxSockets, lookup: guardedLookup(allowPrivateNetworks) });
}

export interface PostAttempt {
  url: URL;
  agent: http.Agent;
  allowPrivateNetworks: boolean;
  headers: Record<string, string | number>;
  body: string;
  signal: AbortSignal;
  clock: Clock;
}

/** POSTs `body` once; resolves with the outcome, never rejects. */
export function postOnce({ url, agent, allowPrivateNetworks, headers, body, signal, clock }: PostAttempt): Promise<DeliveryOutcome> {
  const literal = checkLiteralHost(url.hostname, allowPrivateNetworks);
  if (literal) return Promise.resolve({ kind: 'refused', error: literal.message });
  if (signal.aborted) return Promise.resolve({ kind: 'aborted' });
  const request = url.protocol === 'https:' ? https.request : http.request;
  return new Promise<DeliveryOutcome>((resolve) => {
    let settled = false;
    const settle = (outcome: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const req = request(url, {
      method: 'POST',
      agent,
      lookup: guardedLookup(allowPrivateNetworks),
      headers: { 'content-length': Buffer.byteLength(body), ...headers },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`)), ATTEMPT_TIMEOUT_MS);
    const onAbort = () => {
      settle({ kind: 'aborted' });
      req.destroy();
    };
    signal.addEventListener('abort', onAbort);
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      // Drain what the receiver says so the connection can be reused; its body is not kept.
      res.resume();
      res.on('error', () => undefined);
      if (status >= 200 && status < 300) settle({ kind: 'delivered', status });
      else if (status === 410) settle({ kind: 'gone', status: 410 });
      else settle({ kind: 'failed', status, error: `HTTP ${status}`, retryAfterMs: parseRetryAfter(res.headers['retry-after'], clock.now()) });
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof RefusedAddress || error.code === 'EREFUSED_ADDRESS') settle({ kind: 'refused', error: error.message });
      else settle({ kind: 'failed', status: null, error: error.message || error.code || 'connection failed', retryAfterMs: null });
    });
    req.end(body);
  });
}
