import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { DeliveryEndpoint, DeliveryOutcome } from './delivery.js';
import type { EmailConfig } from './email-config.js';
import { renderEmail } from './email-message.js';
import { emailPayloadSchema, type EmailPayload } from './email-payload.js';
import { emailActionToken } from './email-tokens.js';
import { resolveSecret } from './secrets.js';
import { notDueOutcome } from './no-longer-due.js';
import { readStoredJson } from '../store/json.js';

const ATTEMPT_TIMEOUT_MS = 15_000;

/**
 * A 5xx answer to this message's envelope or content (no such mailbox, content refused) is final:
 * every retry would get the same. A 5xx to the hub's sign-in, or a failed connection, may pass once
 * the server or the hub's settings are put right, so those keep their retries; so does a refusal of
 * the sender for want of sign-in or relay rights (530, or an enhanced status 5.7.x), which servers
 * answer to the envelope.
 */
function rejectedForGood(error: SmtpError, status: number | null): boolean {
  if (status === null || status < 500 || status >= 600 || (error.code !== 'EENVELOPE' && error.code !== 'EMESSAGE')) return false;
  return status !== 530 && !/\b5\.7\.\d{1,3}\b/.test(error.response ?? error.message ?? '');
}

/** What an SMTP failure looks like to nodemailer's callers. */
interface SmtpError extends Error {
  responseCode?: number;
  code?: string;
  /** The server's answer, such as "550 5.7.1 Relaying denied". */
  response?: string;
}

/** What the email channel asks of the hub's store as each message goes out. */
export interface EmailStoreChecks {
  /** Why the message should no longer go out, or null when it should. */
  noLongerDue(payload: EmailPayload): Promise<string | null>;
  /** Makes its Approve and Deny links work from now, as it goes out now. */
  renewLinks(notificationId: string, payload: EmailPayload, tokenKey: Buffer): Promise<void>;
}

/**
 * The email channel: one SMTP server (`notifiers.email`), one message per row. Rows name their
 * recipient; the message, with its Approve and Deny links, is built when it is sent.
 */
export class EmailEndpoint implements DeliveryEndpoint {
  readonly channel = 'email';
  readonly key = 'email';
  readonly name = 'email';
  readonly destination = null;
  readonly maxConcurrency: number;
  readonly urlHash: string;
  readonly origin: string;
  /** Set once the signing key is loaded (the token key derives from it). */
  tokenKey: Buffer | null = null;
  /** What is asked of the hub's store just before a message is sent; set once the store is open. */
  private store: EmailStoreChecks = { noLongerDue: () => Promise.resolve(null), renewLinks: () => Promise.resolve() };
  private readonly transporter: Transporter<SMTPPool.SentMessageInfo>;

  constructor(
    private readonly config: EmailConfig,
    private readonly publicUrl: () => string | null,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const { smtp } = config;
    this.maxConcurrency = smtp.maxConcurrency;
    this.origin = `smtp://${smtp.host}:${smtp.port}`;
    this.urlHash = createHash('sha256').update(this.origin).digest('hex');
    const password = smtp.password === undefined ? undefined : resolveSecret(smtp.password, 'notifiers.email.smtp.password', env);
    this.transporter = nodemailer.createTransport({
      pool: true,
      maxConnections: smtp.maxConcurrency,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      auth: smtp.user ? { user: smtp.user, pass: password } : undefined,
      connectionTimeout: ATTEMPT_TIMEOUT_MS,
      greetingTimeout: ATTEMPT_TIMEOUT_MS,
      socketTimeout: ATTEMPT_TIMEOUT_MS,
      // Never put a password or a message in the hub's output.
      logger: false,
      debug: false,
    });
  }

  attach(store: EmailStoreChecks): void {
    this.store = store;
  }

  /** The link a token opens. */
  actionUrl(token: string): string {
    return `${this.base()}/email-actions/${token}`;
  }

  private base(): string {
    return (this.publicUrl() ?? 'http://127.0.0.1:7300').replace(/\/+$/, '');
  }

  async send(id: string, payload: string, signal: AbortSignal): Promise<DeliveryOutcome> {
    if (!this.tokenKey) return { kind: 'failed', status: null, error: 'the hub has not loaded its keys yet', retryAfterMs: null };
    const stored = readStoredJson(emailPayloadSchema, payload);
    if (!stored) return { kind: 'refused', error: 'the stored message is not one this hub can read' };
    const notDue = await notDueOutcome('message', () => this.store.noLongerDue(stored));
    if (notDue) return notDue;
    const key = this.tokenKey;
    try {
      await this.store.renewLinks(id, stored, key);
    } catch (error) {
      // Sent now, its links could open an "expired" page: tried again instead, with the cause on the row.
      const cause = error instanceof Error ? error.message : String(error);
      return { kind: 'failed', status: null, error: `cannot renew the message's links: ${cause}`, retryAfterMs: null };
    }
    const message = renderEmail(stored, {
      pairs: (stored.decidesFor.length ? stored.decidesFor : [null]).map((name) => ({
        for: name,
        approve: this.actionUrl(emailActionToken(key, id, 'approve', name)),
        deny: this.actionUrl(emailActionToken(key, id, 'deny', name)),
      })),
      console: `${this.base()}/`,
    });
    if (signal.aborted) return { kind: 'aborted' };
    try {
      const info = await this.transporter.sendMail({
        from: this.config.from,
        to: { name: stored.to.name, address: stored.to.address },
        subject: message.subject,
        text: message.text,
        html: message.html,
        // One id per outbox row, the same on every attempt, so a retried message can be recognised.
        messageId: `<${id}@greenlight>`,
        headers: { 'X-Greenlight-Request': stored.request.id, 'Auto-Submitted': 'auto-generated' },
      });
      return { kind: 'delivered', status: Number(/^\d{3}/.exec(info.response)?.[0] ?? 250) };
    } catch (error) {
      const smtp = error as SmtpError;
      const status = typeof smtp.responseCode === 'number' ? smtp.responseCode : null;
      const reason = `SMTP ${status ?? smtp.code ?? 'error'}: ${(smtp.message || 'not accepted').split('\n')[0]}`;
      return rejectedForGood(smtp, status) ? { kind: 'refused', error: reason, status: status ?? undefined } : { kind: 'failed', status, error: reason, retryAfterMs: null };
    }
  }

  close(): void {
    this.transporter.close();
  }
}
