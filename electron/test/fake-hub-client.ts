import { GreenlightError } from '../../protocol/errors.js';
import type { ServerToClientEvents, SyncResult } from '../../protocol/events.js';
import type { ConnectionState, HubClientOptions } from '../../protocol/hub-client.js';
import type { DecideInput, GreenlightRequest, NewRequest } from '../../protocol/request.js';
import type { HubClientLike } from '../hub-connection.js';

type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

/** A scripted HubClient: tests push states, syncs and events into it and read what it was asked. */
export class FakeHubClient implements HubClientLike {
  state: ConnectionState = 'connecting';
  error: GreenlightError | null = null;
  closed = false;
  decided: DecideInput[] = [];
  /** How often the app asked for a new connection at once (on wake). */
  reconnects = 0;
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly syncListeners = new Set<(result: SyncResult) => void>();
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();

  /** `ready`: the first sync the hub answers with, its refusal, or 'silent' for a hub that has not answered yet. */
  constructor(
    readonly options: HubClientOptions,
    private readonly ready: SyncResult | GreenlightError | 'silent',
  ) {}

  connect(): this {
    return this;
  }
  close(): void {
    this.closed = true;
    this.setState('closed');
  }
  reconnectNow(): void {
    this.reconnects++;
  }
  async waitUntilReady(): Promise<SyncResult> {
    // As the real client: a silent hub keeps the wait going until the connection is closed, which ends it CANCELLED.
    if (this.ready === 'silent') return this.untilClosed();
    if (this.ready instanceof GreenlightError) {
      this.error = this.ready;
      this.setState('unauthorized');
      throw this.ready;
    }
    this.setState('connected');
    this.pushSync(this.ready);
    return this.ready;
  }
  onState(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }
  onSync(listener: (result: SyncResult) => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }
  on<E extends EventName>(event: E, listener: (payload: Payload<E>) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }
  setState(state: ConnectionState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }
  pushSync(result: SyncResult): void {
    for (const listener of this.syncListeners) listener(result);
  }
  push<E extends EventName>(event: E, payload: Payload<E>): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (payload: Payload<E>) => void)(payload);
  }
  async submit(_input: NewRequest): Promise<GreenlightRequest> {
    throw new GreenlightError('INTERNAL', 'not scripted');
  }
  async decide(input: DecideInput): Promise<GreenlightRequest> {
    this.decided.push(input);
    throw new GreenlightError('INTERNAL', 'not scripted');
  }
  cancel = this.unscripted;
  review = (input: { requestId: string }) => this.unscripted(input.requestId);
  claim = this.unscripted;
  release = this.unscripted;
  get = this.unscripted;
  async sync(): Promise<SyncResult> {
    if (this.ready === 'silent') return new Promise<never>(() => undefined);
    if (this.ready instanceof GreenlightError) throw this.ready;
    return this.ready;
  }
  private untilClosed(): Promise<never> {
    const closedBeforeReady = () => new GreenlightError('CANCELLED', `The connection to the hub at ${this.options.url} was closed before it was ready.`);
    if (this.closed) return Promise.reject(closedBeforeReady());
    return new Promise<never>((_, reject) => {
      const off = this.onState((state) => {
        if (state !== 'closed') return;
        off();
        reject(closedBeforeReady());
      });
    });
  }
  private async unscripted(_requestId: string): Promise<GreenlightRequest> {
    throw new GreenlightError('INTERNAL', 'not scripted');
  }
}
