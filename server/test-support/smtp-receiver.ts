import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { collect } from './hub-fixture.js';
import type { NotifiersConfig } from '../notify/config.js';

export interface ReceivedMail {
  /** Envelope recipients, as the SMTP client gave them in RCPT TO. */
  to: string[];
  mail: ParsedMail;
}

/**
 * A real SMTP server (the `smtp-server` package) on 127.0.0.1 that parses what arrives with
 * `mailparser`. `refuse` answers every message with a temporary 451 until turned off; `stop()` and
 * `start()` take it away and bring it back on the same port.
 */
export class SmtpReceiver {
  readonly received: ReceivedMail[] = [];
  private readonly events = new EventEmitter();
  private server: SMTPServer | null = null;
  port = 0;
  /** Answer each message 451 (try again later) instead of accepting it. */
  refuse = false;
  /** Refuse this many of the next messages (451), then accept again. */
  refuseNext = 0;
  /** Messages refused so far. */
  refused = 0;
  /**
   * Connections that broke mid-message, such as a hub killed while sending. smtp-server reports each
   * as an `error` event on the server, which would end the test run if nothing listened for it.
   */
  readonly brokenConnections: Error[] = [];
  /** While set, each message waits for it before the server answers, as on a slow server; `holding` counts those waiting. */
  hold: Promise<void> | null = null;
  holding = 0;
  /** Addresses answered 550 (no such mailbox) at RCPT TO, as a real server rejects them for good. */
  readonly unknownMailboxes = new Set<string>();
  /** Addresses answered "550 5.7.1" (relaying denied) at RCPT TO, as a server does to a sender lacking the rights. */
  readonly relayDenied = new Set<string>();
  readonly arrivals = collect<ReceivedMail>((listener) => {
    this.events.on('mail', listener);
    return () => this.events.off('mail', listener);
  });

  /** With credentials, the server asks for them (AUTH over the plain connection, as on a trusted relay). */
  constructor(private readonly credentials?: { user: string; pass: string }) {}

  /**
   * The hub's `notifiers.email` for this server (call once it has started): its password goes
   * through the environment variable `envVar`, as an operator's would; the configuration only names it.
   */
  emailNotifier(envVar: string): NonNullable<NotifiersConfig['email']> {
    if (!this.credentials) throw new Error('emailNotifier needs a server started with credentials');
    process.env[envVar] = this.credentials.pass;
    return { smtp: { host: '127.0.0.1', port: this.port, user: this.credentials.user, password: `env:${envVar}` }, from: 'Greenlight <greenlight@example.com>' };
  }

  async start(): Promise<this> {
    const { credentials } = this;
    const server = new SMTPServer({
      authOptional: !credentials,
      allowInsecureAuth: true,
      disabledCommands: credentials ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      logger: false,
      // A stopped server drops the hub's idle pooled connections at once rather than waiting for them.
      closeTimeout: 100,
      onAuth: (auth, _session, callback) => {
        if (credentials && auth.username === credentials.user && auth.password === credentials.pass) callback(null, { user: auth.username });
        else callback(new Error('invalid credentials'));
      },
      onRcptTo: (address, _session, callback) => {
        if (this.unknownMailboxes.has(address.address)) callback(Object.assign(new Error(`no such mailbox: ${address.address}`), { responseCode: 550 }));
        else if (this.relayDenied.has(address.address)) callback(Object.assign(new Error('5.7.1 relaying denied: sign in first'), { responseCode: 550 }));
        else callback();
      },
      onData: (stream, session, callback) => {
        const to = session.envelope.rcptTo.map((address) => address.address);
        simpleParser(stream)
          .then(async (mail) => {
            const hold = this.hold;
            if (hold) {
              this.holding += 1;
              await hold.finally(() => (this.holding -= 1));
            }
            if (this.refuse || this.refuseNext > 0) {
              this.refuseNext = Math.max(0, this.refuseNext - 1);
              this.refused += 1;
              callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }));
              return;
            }
            const received = { to, mail };
            this.received.push(received);
            callback();
            this.events.emit('mail', received);
          })
          .catch((error: Error) => callback(error));
      },
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error: Error) => this.brokenConnections.push(error));
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening; `start()` listens again on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The messages that arrived for this address. */
  to(address: string): ReceivedMail[] {
    return this.received.filter((received) => received.to.includes(address));
  }
}

/** The links of a message's plain text, by their label (`Approve: …`, `Approve for bob: …`). */
export function linkIn(mail: ParsedMail, label: 'Approve' | 'Deny' | 'Console' | `${'Approve' | 'Deny'} ${'for' | 'as'} ${string}`): string {
  const match = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\s+(\\S+)$`, 'm').exec(mail.text ?? '');
  if (!match?.[1]) throw new Error(`no ${label} link in:\n${mail.text ?? ''}`);
  return match[1];
}
