import { io, type Socket } from 'socket.io-client';
import { GreenlightError, type ErrorCode, ERROR_CODES } from './errors.js';
import { LIMITS } from './limits.js';
import { closedForSize } from './closed-for-size.js';
import { advertisedSize, wireBytes } from './advertised-size.js';
import { SERVER_EVENTS, serverEventSchemas, type Ack, type ClientToServerEvents, type ServerToClientEvents, type SyncResult } from './events.js';
import type { DecideInput, GreenlightRequest, NewRequest, ReviewRef } from './request.js';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'unauthorized' | 'unreachable' | 'closed';

export interface HubClientOptions {
  url: string;
  token: string;
  /** Milliseconds before an unanswered call rejects with TIMEOUT. */
  callTimeoutMs?: number;
  reconnectionDelayMs?: number;
  reconnectionDelayMaxMs?: number;
  /** Needed when several clients live in one process (tests, benchmarks). */
  forceNew?: boolean;
  transports?: ('websocket' | 'polling')[];
}

type Listener<T> = (value: T) => void;
type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
/** Events a client listens to; `requests:stale` is handled by the client itself. */
type EventName = (typeof SERVER_EVENTS)[number];
type EventPayload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

const utf8 = new TextEncoder();
/** socket.io-client's error for the calls still waiting on an answer when their connection closes. */
const DROPPED_BEFORE_ANSWER = 'socket has been disconnected';

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const SHORTEN = 'Shorten the diff or logs, or link to them.';

const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);

/**
 * A typed connection to a hub, used by the web console, the desktop app's main process and the CLI.
 * On every (re)connect it fetches the full state with `requests:sync`, so a client that was offline
 * never misses a request; events that arrive while a sync is in flight are replayed after it.
 */
export class HubClient {
  private readonly socket: ClientSocket;
  private readonly options: Required<Omit<HubClientOptions, 'transports'>> & Pick<HubClientOptions, 'transports'>;
  private currentState: ConnectionState = 'connecting';
  private lastError: GreenlightError | null = null;
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly syncListeners = new Set<Listener<SyncResult>>();
  private readonly eventListeners = new Map<EventName, Set<Listener<never>>>();
  private syncing = false;
  private syncAgain = false;
  private running: Promise<SyncResult> | null = null;
  private buffered: { event: EventName; payload: unknown }[] = [];
  private everConnected = false;
  private lastSync: SyncResult | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Handshakes refused in a row for a passing reason, for the back-off. */
  private refusedInARow = 0;
  /** Pushed events dropped because they did not match the contract. */
  rejectedPushes = 0;
  /** The largest message the hub said, on connecting, that it takes; null before it has said. */
  private readonly hubTakes: () => number | null;
  /** Whether the connection last closed because a message was larger than the hub, or a proxy in front of it, takes. */
  private closedForSize = false;
  /** Calls that timed out since the connection opened: one of them may be the message a close for size was over. */
  private timedOutOnConnection = 0;
  /** Calls dropped by a close for size, settled together once socket.io has failed them all. */
  private droppedForSize: DroppedCall[] = [];

  constructor(options: HubClientOptions) {
    this.options = {
      callTimeoutMs: 15_000,
      reconnectionDelayMs: 500,
      reconnectionDelayMaxMs: 10_000,
      forceNew: false,
      ...options,
    };
    this.socket = io(this.options.url, {
      auth: { token: this.options.token },
      autoConnect: false,
      forceNew: this.options.forceNew,
      reconnection: true,
      reconnectionDelay: this.options.reconnectionDelayMs,
      reconnectionDelayMax: this.options.reconnectionDelayMaxMs,
      randomizationFactor: 0.5,
      transports: this.options.transports ?? ['websocket', 'polling'],
    });
    this.hubTakes = advertisedSize(this.socket.io);
    this.socket.on('connect', () => {
      this.everConnected = true;
      this.refusedInARow = 0;
      this.timedOutOnConnection = 0;
      this.lastError = null;
      this.setState('connected');
      void this.resync();
    });
    this.socket.on('disconnect', (reason, description) => {
      // Called before socket.io fails the calls still waiting, which read it.
      this.closedForSize = closedForSize(description);
      // The hub ended this session on purpose (its user was disabled); socket.io will not retry by
      // itself. A hub shutting down drops the connection instead, and the client reconnects.
      if (reason === 'io server disconnect') {
        this.lastError = new GreenlightError('UNAUTHENTICATED', 'The hub ended this session: the account may have been disabled. Sign in again with a valid token.');
        this.setState('unauthorized');
        return;
      }
      if (reason === 'io client disconnect') return;
      this.setState('reconnecting');
    });
    this.socket.on('connect_error', (error: Error & { data?: { code?: unknown; message?: unknown } }) => {
      const code = error.data?.code;
      if (isErrorCode(code)) {
        this.lastError = new GreenlightError(code, typeof error.data?.message === 'string' ? error.data.message : error.message);
        if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') {
          this.setState('unauthorized');
          return;
        }
      } else {
        // No reason from the hub: the handshake never reached it (refused, DNS, TLS, no answer in time).
        this.lastError = new GreenlightError('UNAVAILABLE', `Cannot reach the hub at ${this.options.url}: ${error.message}`, { noAnswer: true });
      }
      this.setState(this.everConnected ? 'reconnecting' : 'unreachable');
      if (!this.socket.active) this.retryRefusedHandshake();
    });
    for (const event of SERVER_EVENTS) {
      this.socket.on(event, (payload: EventPayload<typeof event>) => this.dispatch(event, payload));
    }
    this.socket.on('requests:stale', () => {
      // A sync already under way may have read before what made the state stale: sync once more after it.
      if (this.syncing) this.syncAgain = true;
      else void this.resync();
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Why the client is not connected, when the hub or the network said. */
  get error(): GreenlightError | null {
    return this.lastError;
  }

  connect(): this {
    this.setState(this.everConnected ? 'reconnecting' : 'connecting');
    this.socket.connect();
    return this;
  }

  close(): void {
    this.cancelRetry();
    this.socket.disconnect();
    this.setState('closed');
  }

  /**
   * Drops the connection and opens a new one at once. For when the machine wakes or its network
   * comes back: the old connection may have died without either end noticing yet (the heartbeat
   * takes up to 45 s to tell), or the client may be waiting out a retry delay of several seconds.
   * A client that was closed, or refused by the hub, stays as it is.
   */
  reconnectNow(): void {
    if (this.currentState === 'closed' || this.currentState === 'unauthorized') return;
    this.cancelRetry();
    this.socket.disconnect();
    this.connect();
  }

  /**
   * socket.io gives up on a connection whose handshake the hub refused. A refusal for a passing
   * reason (its database unreachable for a moment, too many attempts) is tried again here, backing
   * off as socket.io's own reconnection does, or the app would say "reconnecting" and never try.
   */
  private retryRefusedHandshake(): void {
    if (this.retryTimer) return;
    const { reconnectionDelayMs, reconnectionDelayMaxMs } = this.options;
    const base = Math.min(reconnectionDelayMaxMs, reconnectionDelayMs * 2 ** Math.min(this.refusedInARow, 20));
    this.refusedInARow += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.currentState !== 'closed' && this.currentState !== 'unauthorized') this.socket.connect();
    }, base * (0.5 + Math.random() / 2));
  }

  private cancelRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /**
   * Resolves once connected and synced; rejects with the reason when the hub refuses or can't be reached,
   * and with `CANCELLED` once the client is closed, since a closed client never becomes ready.
   */
  waitUntilReady(timeoutMs = 10_000): Promise<SyncResult> {
    // Already settled: don't make the caller wait out the timeout for an event that has passed.
    if (this.currentState === 'connected' && this.lastSync && !this.syncing) return Promise.resolve(this.lastSync);
    if ((this.currentState === 'unauthorized' || this.currentState === 'unreachable') && this.lastError) return Promise.reject(this.lastError);
    if (this.currentState === 'closed') return Promise.reject(this.closedBeforeReady());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(this.lastError ?? new GreenlightError('TIMEOUT', `No answer from the hub at ${this.options.url} within ${timeoutMs} ms`, { noAnswer: true }));
      }, timeoutMs);
      const offSync = this.onSync((result) => {
        cleanup();
        resolve(result);
      });
      const offState = this.onState((state) => {
        if (state === 'unauthorized' || state === 'unreachable') {
          cleanup();
          reject(this.lastError ?? new GreenlightError('UNAVAILABLE', `Cannot connect to ${this.options.url}`, { noAnswer: true }));
        } else if (state === 'closed') {
          cleanup();
          reject(this.closedBeforeReady());
        }
      });
      const cleanup = () => {
        clearTimeout(timer);
        offSync();
        offState();
      };
    });
  }

  private closedBeforeReady(): GreenlightError {
    return new GreenlightError('CANCELLED', `The connection to the hub at ${this.options.url} was closed before it was ready.`);
  }

  onState(listener: Listener<ConnectionState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onSync(listener: Listener<SyncResult>): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  on<E extends EventName>(event: E, listener: Listener<EventPayload<E>>): () => void {
    let listeners = this.eventListeners.get(event);
    if (!listeners) {
      listeners = new Set();
      this.eventListeners.set(event, listeners);
    }
    listeners.add(listener as Listener<never>);
    return () => listeners.delete(listener as Listener<never>);
  }

  submit(input: NewRequest): Promise<GreenlightRequest> {
    return this.call('request:submit', input);
  }
  decide(input: DecideInput): Promise<GreenlightRequest> {
    return this.call('request:decide', input);
  }
  cancel(requestId: string, reason?: string): Promise<GreenlightRequest> {
    return this.call('request:cancel', { requestId, ...(reason ? { reason } : {}) });
  }
  review(input: ReviewRef): Promise<GreenlightRequest> {
    return this.call('request:review', input);
  }
  claim(requestId: string): Promise<GreenlightRequest> {
    return this.call('request:claim', { requestId });
  }
  release(requestId: string): Promise<GreenlightRequest> {
    return this.call('request:release', { requestId });
  }
  get(requestId: string): Promise<GreenlightRequest> {
    return this.call('request:get', { requestId });
  }
  /**
   * The whole state, read afresh. Whoever asks, its answer goes to the `onSync` listeners first, and
   * events pushed while it was read are held and replayed after it: an answer read before such an
   * event must not undo it. One sync runs at a time; asked for during one, it runs after it.
   */
  async sync(): Promise<SyncResult> {
    while (this.running) await this.running.catch(() => undefined);
    const run = this.readSync();
    this.running = run;
    try {
      return await run;
    } finally {
      this.running = null;
      if (this.syncAgain && this.socket.connected) void this.resync();
    }
  }

  private resync(): Promise<void> {
    return this.sync().then(
      () => undefined,
      () => undefined,
    );
  }

  private async readSync(): Promise<SyncResult> {
    this.syncing = true;
    this.syncAgain = false;
    this.buffered = [];
    try {
      const result = await this.call('requests:sync', {});
      this.syncing = false;
      this.lastSync = result;
      for (const listener of this.syncListeners) listener(result);
      return result;
    } catch (error) {
      this.syncing = false;
      this.lastError = error instanceof GreenlightError ? error : new GreenlightError('INTERNAL', String(error));
      // Without a sync the events that arrived meanwhile are still the freshest news we have.
      throw error;
    } finally {
      const replay = this.buffered;
      this.buffered = [];
      for (const { event, payload } of replay) this.emitLocal(event, payload);
    }
  }

  private dispatch(event: EventName, raw: unknown): void {
    const parsed = serverEventSchemas[event].safeParse(raw);
    if (!parsed.success) {
      // A push that isn't what the contract says (a hub of another version, a broken proxy) is not
      // acted on; a full sync brings the state back to what the hub holds.
      this.rejectedPushes += 1;
      if (!this.syncing) void this.resync();
      return;
    }
    const payload = parsed.data;
    if (this.syncing) {
      this.buffered.push({ event, payload });
      return;
    }
    this.emitLocal(event, payload);
  }

  private emitLocal(event: EventName, payload: unknown): void {
    for (const listener of this.eventListeners.get(event) ?? []) (listener as Listener<unknown>)(payload);
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private call<E extends keyof ClientToServerEvents>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<AckData<E>> {
    // Bytes, as the hub counts them: a diff in a non-Latin script is up to 3x its length in UTF-8.
    const json = JSON.stringify(payload);
    const size = utf8.encode(json).length;
    if (size > LIMITS.bodyBytes) return Promise.reject(notSent(size, LIMITS.bodyBytes));
    // A hub of another version may take less than this client's limit: what it said it takes is
    // checked here, so the call too large is refused before it is sent, not by the hub closing the
    // connection under every call waiting beside it.
    const wire = wireBytes(event, json, utf8);
    const hubTakes = this.hubTakes();
    if (hubTakes !== null && wire > hubTakes) return Promise.reject(notSent(wire, hubTakes));
    return new Promise((resolve, reject) => {
      // socket.io's typed timeout() cannot express our generic event, so the ack callback is typed here.
      const timed = this.socket.timeout(this.options.callTimeoutMs) as unknown as {
        emit(name: E, body: unknown, callback: (error: Error | null, response: Ack<AckData<E>>) => void): void;
      };
      timed.emit(event, payload, (error, response) => {
        if (error) {
          // socket.io fails a call at once when its connection drops: sent or not, it went unanswered.
          const dropped = error.message === DROPPED_BEFORE_ANSWER;
          if (dropped && this.closedForSize) {
            this.dropForSize({ event, size, reject });
            return;
          }
          if (!dropped) this.timedOutOnConnection += 1;
          reject(
            new GreenlightError(
              'TIMEOUT',
              dropped
                ? `The connection to the hub dropped before it answered ${event}, so it may not have been done; the next sync shows whether it was`
                : `The hub did not answer ${event} within ${this.options.callTimeoutMs} ms`,
            ),
          );
        } else if ('error' in response) {
          reject(new GreenlightError(response.error.code, response.error.message));
        } else {
          resolve(response.data);
        }
      });
    });
  }

  /**
   * Holds a call a close for size dropped until socket.io has failed every call waiting (it does so
   * at once, one after another). Only when it was the one call on the wire, none having timed out on
   * this connection, was it the message the hub (or a proxy in front of it, which says nothing of its
   * limit) would not take; with others beside it, none is blamed.
   */
  private dropForSize(call: DroppedCall): void {
    this.droppedForSize.push(call);
    if (this.droppedForSize.length > 1) return;
    queueMicrotask(() => {
      const dropped = this.droppedForSize.splice(0);
      const alone = dropped.length === 1 && this.timedOutOnConnection === 0;
      for (const { event, size, reject } of dropped) {
        reject(
          alone
            ? new GreenlightError('PAYLOAD_TOO_LARGE', `The hub, or a proxy in front of it, closed the connection rather than take this ${megabytes(size)} message: it is more than it accepts, so nothing was done. ${SHORTEN}`)
            : new GreenlightError(
                'TIMEOUT',
                `The connection to the hub dropped before it answered ${event}, over a message in flight (this one is ${megabytes(size)}) more than the hub, or a proxy in front of it, takes; it may not have been done, the next sync shows whether it was`,
              ),
        );
      }
    });
  }
}

interface DroppedCall {
  event: string;
  size: number;
  reject: (error: GreenlightError) => void;
}

const notSent = (size: number, limit: number) =>
  new GreenlightError('PAYLOAD_TOO_LARGE', `This message is ${megabytes(size)}; the hub accepts at most ${megabytes(limit)}, so nothing was sent. ${SHORTEN}`);

type AckData<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends (response: Ack<infer T>) => void ? T : never;
