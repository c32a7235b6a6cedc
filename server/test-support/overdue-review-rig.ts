import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import type { WebhookConfig } from '../notify/config.js';
import { deployRequest, TestHub, type TestUser } from './hub-fixture.js';
import { SmtpReceiver, type ReceivedMail } from './smtp-receiver.js';
import { newWebhookSecret, WebhookReceiver, type ReceivedWebhook } from './webhook-receiver.js';

export const REVIEW_WINDOW_MS = 24 * 3_600_000;

/**
 * A real hub whose policy names webhooks (`webhook:<name>` at `<receiver>/<name>`), Teams hooks
 * (`teams:<name>` at `<receiver>/teams/<name>`) and email (a local SMTP server), for following a
 * break-glass use until its review is overdue. The clock starts a day behind real time, so an alert
 * sent when the review falls due is signed within a receiver's 5 minutes.
 */
export class OverdueReviewRig {
  readonly receiver = new WebhookReceiver();
  readonly smtp = new SmtpReceiver({ user: 'greenlight', pass: 'smtp-password-for-overdue-reviews-5t8w' });
  readonly clock = new ManualClock(new Date(Date.now() - REVIEW_WINDOW_MS - 60_000));
  /** Each webhook's secret, by name. */
  readonly secrets = new Map<string, string>();
  hub!: TestHub;
  private readonly envVar = `GREENLIGHT_TEST_OVERDUE_SMTP_${Math.random().toString(36).slice(2).toUpperCase()}`;

  constructor(
    private readonly policy: string,
    private readonly webhooks: { name: string; events?: WebhookConfig['events'] }[],
    private readonly teams: string[] = [],
  ) {}

  async start(): Promise<void> {
    await this.receiver.start();
    await this.smtp.start();
    const webhooks = this.webhooks.map(({ name, events }) => {
      const secret = newWebhookSecret();
      this.secrets.set(name, secret);
      return { name, url: `${this.receiver.url}/${name}`, secret, ...(events ? { events } : {}) };
    });
    this.hub = new TestHub('sqlite', {
      policy: this.policy,
      clock: this.clock,
      publicUrl: 'http://greenlight.test.example',
      notifiers: {
        allowPrivateNetworks: true,
        webhooks,
        ...(this.teams.length ? { teams: this.teams.map((name) => ({ name, url: `${this.receiver.url}/teams/${name}` })) } : {}),
        email: this.smtp.emailNotifier(this.envVar),
      },
    });
    await this.hub.start();
  }

  async dispose(): Promise<void> {
    await this.hub.dispose();
    await this.receiver.close();
    await this.smtp.stop();
    delete process.env[this.envVar];
  }

  /** Breaks glass as `who`, and waits until every notification of the use went out. */
  async breakGlass(who: TestUser, incident: string, overrides: Parameters<typeof deployRequest>[0] = {}): Promise<GreenlightRequest> {
    const { status, body } = await this.hub.api<GreenlightRequest>('POST', '/api/v1/requests', who.token, deployRequest({ reason: 'database is down, customers cannot pay', breakGlass: { incident }, ...overrides }));
    if (status !== 201) throw new Error(`break-glass failed: ${status} ${JSON.stringify(body)}`);
    await this.hub.hub.dispatcher.idle();
    return body;
  }

  /** Lets the review window pass, and waits until every notification of the overdue review went out. */
  async letReviewGoOverdue(): Promise<void> {
    this.clock.advance(REVIEW_WINDOW_MS);
    await this.hub.hub.scheduler.runNow();
    await this.hub.hub.dispatcher.idle();
  }

  /** Webhooks of `type` about this request that reached the webhook (or Teams hook path) `path`. */
  webhooksAt(path: string, type: string, requestId: string): ReceivedWebhook[] {
    return this.receiver.received.filter((arrival) => arrival.path.startsWith(path) && arrival.body.type === type && arrival.body.data.id === requestId);
  }

  /** Teams cards about this request's incident that reached the hook `name`. */
  cardsAt(name: string, incident: string): ReceivedWebhook[] {
    return this.receiver.received.filter((arrival) => arrival.path.startsWith(`/teams/${name}`) && arrival.raw.includes(incident));
  }

  mailsTo(address: string, requestId: string): ReceivedMail[] {
    return this.smtp.to(address).filter((received) => received.mail.headers.get('x-greenlight-request') === requestId);
  }

  /** Who got an email about this request with a subject matching `subject`, sorted. */
  mailedAbout(requestId: string, subject: RegExp): string[] {
    const addresses = this.smtp.received.filter((received) => received.mail.headers.get('x-greenlight-request') === requestId && subject.test(received.mail.subject ?? '')).flatMap((received) => received.to);
    return [...new Set(addresses)].sort();
  }
}
