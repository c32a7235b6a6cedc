import { GreenlightError } from '../protocol/errors.js';
import type { DesktopEvent } from '../protocol/desktop-api.js';
import type { SyncResult } from '../protocol/events.js';
import type { HubClient, HubClientOptions } from '../protocol/hub-client.js';
import type { GreenlightRequest } from '../protocol/request.js';
import { compareUrgency } from '../protocol/urgency.js';
import { waitsOnMe } from '../protocol/waits-on-me.js';
import { insecureHubProblem } from './hub-url.js';
import type { Me } from './me.js';
import type { HeldCredentials } from './replaced-sessions.js';

export interface HubClientLike
  extends Pick<HubClient, 'close' | 'reconnectNow' | 'onState' | 'onSync' | 'on' | 'waitUntilReady' | 'state' | 'error' | 'submit' | 'decide' | 'cancel' | 'review' | 'claim' | 'release' | 'get' | 'sync'> {
  // Restated: the original returns the class itself.
  connect(): unknown;
}

/** Where a connection's news goes once it is passed on. */
export interface ConnectionListener {
  event(event: DesktopEvent): void;
  stateChanged(): void;
}

/**
 * One HubClient with its credentials and what it has told main: who I am there and what waits on me.
 * It keeps its news to itself until `passOn`: a sign-in's connection, not yet known to be good, must
 * not show through the one main holds. What came meanwhile (the first sync, a request) is passed on then, in order.
 */
export class ClientConnection {
  private currentMe: Me | null = null;
  private readonly pending = new Map<string, GreenlightRequest>();
  /** The highest version seen per request, so a late, older event can't resurrect a decided request. */
  private readonly versions = new Map<string, number>();
  private heldBack: DesktopEvent[] | null = [];
  private readonly unsubscribe: (() => void)[];

  private constructor(
    readonly client: HubClientLike,
    readonly credentials: HeldCredentials,
    private readonly listener: ConnectionListener,
  ) {
    this.unsubscribe = [
      client.onState(() => {
        if (this.heldBack === null) listener.stateChanged();
      }),
      client.onSync((result) => this.applySync(result)),
      client.on('request:created', (request) => this.apply({ type: 'request:created', request }, request)),
      client.on('request:updated', (request) => this.apply({ type: 'request:updated', request }, request)),
      client.on('request:escalated', (payload) => this.apply({ type: 'request:escalated', payload }, payload.request)),
      client.on('request:reminded', (payload) => this.apply({ type: 'request:reminded', payload }, payload.request)),
      client.on('grant:expiring', (payload) => this.apply({ type: 'grant:expiring', payload }, payload.request)),
      client.on('cluster:status', (cluster) => this.emit({ type: 'cluster:status', cluster })),
    ];
  }

  /** Every way in (sign-in, a saved hub at launch, the launch environment) comes through here. */
  static open(createClient: (options: HubClientOptions) => HubClientLike, credentials: HeldCredentials, listener: ConnectionListener): ClientConnection {
    const insecure = insecureHubProblem(credentials.hubUrl);
    if (insecure) throw new GreenlightError('INVALID_INPUT', `Not connecting to ${credentials.hubUrl}: ${insecure}.`);
    const connection = new ClientConnection(createClient({ url: credentials.hubUrl, token: credentials.token }), credentials, listener);
    connection.client.connect();
    return connection;
  }

  get me(): Me | null {
    return this.currentMe;
  }

  /** Pending requests that wait on me, most urgent first. */
  get inbox(): GreenlightRequest[] {
    return [...this.pending.values()].sort(compareUrgency);
  }

  /** From now on its news reaches the listener, starting with what it held back. */
  passOn(): void {
    const held = this.heldBack ?? [];
    this.heldBack = null;
    for (const event of held) this.listener.event(event);
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    this.client.close();
  }

  private applySync(result: SyncResult): void {
    this.currentMe = result.me;
    this.pending.clear();
    for (const request of result.inbox) {
      this.versions.set(request.id, Math.max(request.version, this.versions.get(request.id) ?? 0));
      if (waitsOnMe(request, result.me)) this.pending.set(request.id, request);
    }
    this.emit({ type: 'sync', result });
  }

  private apply(event: DesktopEvent, request: GreenlightRequest): void {
    if (request.version < (this.versions.get(request.id) ?? 0)) return;
    this.versions.set(request.id, request.version);
    if (this.currentMe && waitsOnMe(request, this.currentMe)) this.pending.set(request.id, request);
    else this.pending.delete(request.id);
    this.emit(event);
  }

  private emit(event: DesktopEvent): void {
    if (this.heldBack) this.heldBack.push(event);
    else this.listener.event(event);
  }
}
