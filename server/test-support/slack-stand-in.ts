import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collect } from './hub-fixture.js';
import { messageProblems, modalProblems } from './slack-block-kit.js';

type Json = Record<string, unknown>;

/** One Web API call as it arrived: method, arguments (JSON fields decoded) and what was answered. */
export interface SlackCall {
  method: string;
  args: Json;
  status: number;
  answer: Json;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Json[];
  /** How many times chat.update rewrote it. */
  updates: number;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

/**
 * A local stand-in for Slack's Web API: a real HTTP server that records every call, answers as Slack
 * does (ok/error envelopes, channel ids, message timestamps), refuses payloads over Block Kit's
 * limits with `invalid_blocks`, can answer 429 with Retry-After, can fail a post once, refuse updates
 * in a channel and hold its answers until told. Point
 * WebClient's `slackApiUrl` (the hub's `notifiers.slack.apiUrl`) at `apiUrl`.
 */
export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  readonly messages = new Map<string, PostedMessage>();
  /** Block Kit problems found, by call; a well-behaved hub leaves this empty. */
  readonly violations: { method: string; problems: string[] }[] = [];
  /** Slack users' profile emails, for users.info. */
  readonly emails = new Map<string, string>();
  /** Slack users whose email Slack has not confirmed (users.info `is_email_confirmed: false`). */
  readonly unconfirmedEmails = new Set<string>();
  private readonly events = new EventEmitter();
  private readonly limited: { method: string; retryAfterSeconds: number; remaining: number }[] = [];
  private readonly failing: { channel: string | null; before: number; error: string }[] = [];
  /** Member ids Slack does not know (deleted, or mistyped in Greenlight): conversations.open answers `user_not_found`. */
  readonly unknownUsers = new Set<string>();
  /** Channels whose messages chat.update refuses, with the error it answers. */
  private readonly refusedUpdates = new Map<string, string>();
  private readonly holding = new Set<string>();
  private readonly waiting: { gone: () => boolean; answer: () => void }[] = [];
  private server: Server | null = null;
  private counter = 0;
  apiUrl = '';
  readonly arrivals = collect<SlackCall>((listener) => {
    this.events.on('call', listener);
    return () => this.events.off('call', listener);
  });

  constructor(readonly botToken = 'xoxb-test-bot-token') {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
        const args = this.parse(String(req.headers['content-type'] ?? ''), Buffer.concat(chunks).toString('utf8'));
        if (this.holding.has(method)) {
          this.waiting.push({ gone: () => req.socket.destroyed, answer: () => this.respond(method, args, String(req.headers.authorization ?? ''), res) });
          this.events.emit('held');
          return;
        }
        this.respond(method, args, String(req.headers.authorization ?? ''), res);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.apiUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
    return this;
  }

  private respond(method: string, args: Json, authorization: string, res: ServerResponse): void {
    const limit = this.limited.find((entry) => entry.method === method && entry.remaining > 0);
    const failure = method === 'chat.postMessage' && !limit ? this.postFailure(args) : null;
    let status = 200;
    let answer: Json;
    if (this.unavailable) {
      status = 503;
      answer = { ok: false, error: 'service_unavailable' };
    } else if (limit) {
      limit.remaining -= 1;
      status = 429;
      answer = { ok: false, error: 'ratelimited' };
      res.setHeader('retry-after', String(limit.retryAfterSeconds));
    } else if (authorization !== `Bearer ${this.botToken}`) {
      answer = { ok: false, error: 'invalid_auth' };
    } else if (failure) {
      answer = { ok: false, error: failure };
    } else {
      answer = this.answer(method, args);
    }
    const call: SlackCall = { method, args, status, answer };
    this.calls.push(call);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
    this.events.emit('call', call);
  }

  /**
   * From now on calls of `method` are taken in but not answered until `release()`: a Slack slow to
   * answer (a network stall, say). They count in `held`.
   */
  hold(method: string): void {
    this.holding.add(method);
  }

  /** How many calls wait for `release()`, their callers still waiting too (a call the hub gave up on, timed out, is not counted). */
  get held(): number {
    return this.waiting.filter((call) => !call.gone()).length;
  }

  /**
   * Answers every held call and stops holding. A call whose caller is gone by then (a hub that died, or
   * gave up waiting) is dropped unanswered, as if it never reached Slack: nothing is posted for it.
   */
  release(): void {
    this.holding.clear();
    for (const call of this.waiting.splice(0)) if (!call.gone()) call.answer();
  }

  /** Resolves with what `check` finds, looking again after every call that arrives; rejects after `timeoutMs`. */
  until<T>(check: () => T | undefined | null | false, what: string, timeoutMs = 15_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const look = () => {
        const found = check();
        if (!found) return false;
        this.events.off('call', onCall);
        this.events.off('held', onCall);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const onCall = () => void look();
      const timer = setTimeout(() => {
        this.events.off('call', onCall);
        this.events.off('held', onCall);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.events.on('call', onCall);
      this.events.on('held', onCall);
      look();
    });
  }

  /** Whether every call is answered HTTP 503, as by a Slack outage; set back to false when Slack is back. */
  unavailable = false;

  /** The next `times` calls of `method` are answered 429 with this Retry-After. */
  rateLimit(method: string, retryAfterSeconds: number, times = 1): void {
    this.limited.push({ method, retryAfterSeconds, remaining: times });
  }

  /**
   * The `nth` chat.postMessage from now (to `channel` only, when given) is answered `{ ok: false, error }`,
   * once: a transient failure such as Slack's `service_unavailable`.
   */
  failPost(nth: number, options: { channel?: string; error?: string } = {}): void {
    this.failing.push({ channel: options.channel ?? null, before: nth - 1, error: options.error ?? 'service_unavailable' });
  }

  /** From now on, chat.update of any message in `channel` (an id) is answered `{ ok: false, error }`; null lifts it. */
  refuseUpdates(channel: string, error: string | null): void {
    if (error === null) this.refusedUpdates.delete(channel);
    else this.refusedUpdates.set(channel, error);
  }

  /** The error to answer this post with, if a `failPost` falls on it. */
  private postFailure(args: Json): string | null {
    for (const [index, entry] of this.failing.entries()) {
      if (entry.channel !== null && entry.channel !== args.channel) continue;
      if (entry.before > 0) {
        entry.before -= 1;
        continue;
      }
      this.failing.splice(index, 1);
      return entry.error;
    }
    return null;
  }

  /** The messages whose buttons carry this request id, oldest first. */
  messagesFor(requestId: string): PostedMessage[] {
    return [...this.messages.values()].filter((message) => JSON.stringify(message.blocks).includes(`"value":"${requestId}"`));
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** What chat.postEphemeral showed this member (only they see it), as messages whose buttons can be clicked; oldest first. */
  ephemeralsTo(slackUserId: string): PostedMessage[] {
    return this.callsOf('chat.postEphemeral')
      .filter((call) => call.args.user === slackUserId)
      .map((call) => ({ channel: String(call.args.channel), ts: String(call.answer.message_ts ?? ''), text: String(call.args.text ?? ''), blocks: (call.args.blocks as Json[] | undefined) ?? [], updates: 0 }));
  }

  private parse(contentType: string, raw: string): Json {
    if (contentType.includes('application/json')) return JSON.parse(raw || '{}') as Json;
    const args: Json = {};
    for (const [key, value] of new URLSearchParams(raw)) args[key] = JSON_FIELDS.has(key) ? (JSON.parse(value) as unknown) : value;
    return args;
  }

  private channelId(channel: string): string {
    if (channel.startsWith('#')) return `C${createHash('sha256').update(channel).digest('hex').slice(0, 8).toUpperCase()}`;
    return channel;
  }

  private refuseBlocks(method: string, problems: string[]): Json | null {
    if (problems.length === 0) return null;
    this.violations.push({ method, problems });
    return { ok: false, error: 'invalid_blocks', errors: problems };
  }

  private answer(method: string, args: Json): Json {
    switch (method) {
      case 'chat.postMessage': {
        const refused = this.refuseBlocks(method, messageProblems(args));
        if (refused) return refused;
        if (typeof args.channel !== 'string' || !args.channel) return { ok: false, error: 'channel_not_found' };
        const channel = this.channelId(args.channel);
        this.counter += 1;
        const ts = `${Math.floor(Date.now() / 1000)}.${String(this.counter).padStart(6, '0')}`;
        const message: PostedMessage = { channel, ts, text: String(args.text ?? ''), blocks: (args.blocks as Json[] | undefined) ?? [], updates: 0 };
        this.messages.set(`${channel}/${ts}`, message);
        return { ok: true, channel, ts, message: { text: message.text, ts } };
      }
      case 'chat.update': {
        const key = `${String(args.channel)}/${String(args.ts)}`;
        const message = this.messages.get(key);
        if (!message) return { ok: false, error: 'message_not_found' };
        const updateRefused = this.refusedUpdates.get(message.channel);
        if (updateRefused) return { ok: false, error: updateRefused };
        const refused = this.refuseBlocks(method, messageProblems(args));
        if (refused) return refused;
        this.messages.set(key, { ...message, text: String(args.text ?? ''), blocks: (args.blocks as Json[] | undefined) ?? [], updates: message.updates + 1 });
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'conversations.open':
        if (typeof args.users !== 'string') return { ok: false, error: 'users_list_not_supplied' };
        return this.unknownUsers.has(args.users) ? { ok: false, error: 'user_not_found' } : { ok: true, channel: { id: `D${args.users}` } };
      case 'views.open': {
        const refused = this.refuseBlocks(method, modalProblems(args.view));
        if (refused) return refused;
        return typeof args.trigger_id === 'string' && args.trigger_id ? { ok: true, view: { id: `V${this.calls.length}` } } : { ok: false, error: 'invalid_trigger_id' };
      }
      case 'chat.postEphemeral': {
        const refused = this.refuseBlocks(method, messageProblems(args));
        if (refused) return refused;
        return { ok: true, message_ts: `${Math.floor(Date.now() / 1000)}.000001` };
      }
      case 'users.info': {
        const user = String(args.user ?? '');
        const email = this.emails.get(user);
        return { ok: true, user: { id: user, deleted: false, is_bot: false, is_email_confirmed: !this.unconfirmedEmails.has(user), profile: email ? { email } : {} } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
