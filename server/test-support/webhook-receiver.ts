import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { collect } from './hub-fixture.js';

export interface ReceivedWebhook {
  path: string;
  id: string;
  headers: IncomingHttpHeaders;
  /** The body exactly as it arrived, as verification needs it. */
  raw: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> & { id: string; status: string } };
}

/** What the receiver answers; `hold` keeps the request open until `release()`. */
export type Reply = { status: number; headers?: Record<string, string> } | 'hold';

/**
 * A real HTTP server on 127.0.0.1 that records what webhooks bring and answers as the test says
 * (200 unless told otherwise), for checking deliveries with the standardwebhooks package.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly events = new EventEmitter();
  private readonly held: ServerResponse[] = [];
  private server: Server | null = null;
  url = '';
  reply: (request: ReceivedWebhook, seenBefore: number) => Reply = () => ({ status: 200 });
  readonly arrivals = collect<ReceivedWebhook>((listener) => {
    this.events.on('webhook', listener);
    return () => this.events.off('webhook', listener);
  });

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['webhook-id'] ?? '');
        const seenBefore = this.received.filter((r) => r.id === id).length;
        const webhook: ReceivedWebhook = { path: req.url ?? '/', id, headers: req.headers, raw, body: JSON.parse(raw) as ReceivedWebhook['body'] };
        this.received.push(webhook);
        const reply = this.reply(webhook, seenBefore);
        if (reply === 'hold') this.held.push(res);
        else res.writeHead(reply.status, reply.headers).end();
        this.events.emit('webhook', webhook);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Answers every held request with 200. */
  release(): void {
    for (const res of this.held.splice(0)) res.writeHead(200).end();
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Checks the signature and timestamp as any Standard Webhooks receiver would; throws if they don't verify. */
  static verify(secret: string, webhook: ReceivedWebhook): unknown {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(webhook.headers)) if (typeof value === 'string') headers[name] = value;
    return new Webhook(secret).verify(webhook.raw, headers);
  }

  async close(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A fresh Standard Webhooks secret. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
