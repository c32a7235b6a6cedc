import type { GreenlightRequest } from '../../protocol/index.js';
import type { HubBus, HubEvent } from '../domain/bus.js';

/** The request an event shows leaving `pending`, if it does: what long-polls wait for. */
export function settledBy(event: HubEvent): GreenlightRequest | null {
  if (event.type !== 'request.updated' && event.type !== 'request.escalated') return null;
  return event.request.status === 'pending' ? null : event.request;
}

/** Long-poll waiters: resolve as soon as a request leaves `pending`. */
export class Waiters {
  private readonly waiting = new Map<string, Set<(request: GreenlightRequest | null) => void>>();
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(bus: HubBus) {
    this.unsubscribe = bus.on((event) => {
      const settled = settledBy(event);
      if (settled) this.answer(settled.id, settled);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves with the decided request, or with null after `timeoutMs` or when `signal` aborts. */
  wait(requestId: string, timeoutMs: number, signal?: AbortSignal): Promise<GreenlightRequest | null> {
    // A hub shutting down answers at once, or a client's next poll would hold the shutdown up.
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      let listeners = this.waiting.get(requestId);
      if (!listeners) {
        listeners = new Set();
        this.waiting.set(requestId, listeners);
      }
      const done = (request: GreenlightRequest | null) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        listeners.delete(done);
        if (listeners.size === 0 && this.waiting.get(requestId) === listeners) this.waiting.delete(requestId);
        resolve(request);
      };
      const onAbort = () => done(null);
      const timer = setTimeout(() => done(null), timeoutMs);
      listeners.add(done);
      signal?.addEventListener('abort', onAbort);
    });
  }

  /** Another hub settled this request: let its waiters here look again now. */
  wake(requestId: string): void {
    this.answer(requestId, null);
  }

  private answer(requestId: string, request: GreenlightRequest | null): void {
    const listeners = this.waiting.get(requestId);
    if (!listeners) return;
    this.waiting.delete(requestId);
    for (const listener of listeners) listener(request);
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const listeners of this.waiting.values()) for (const listener of listeners) listener(null);
    this.waiting.clear();
  }
}
