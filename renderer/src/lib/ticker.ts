/**
 * One clock for every countdown on screen: a single timer, running while anything listens, that
 * fires just after each whole second so "4m 10s" turns into "4m 9s" everywhere in the same frame.
 */
type Listener = () => void;

export interface Ticker {
  subscribe(listener: Listener): () => void;
  now(): number;
}

export interface TimerApi {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: TimerApi = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export function createTicker(clock: () => number = Date.now, timers: TimerApi = realTimers): Ticker {
  const listeners = new Set<Listener>();
  let current = clock();
  let timer: unknown = null;
  const arm = () => {
    // A few ms past the boundary, so a timer that fires a little early still lands in the new second.
    timer = timers.set(tick, 1_000 - (clock() % 1_000) + 5);
  };
  const tick = () => {
    current = clock();
    for (const listener of [...listeners]) listener();
    arm();
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      if (listeners.size === 1) {
        current = clock();
        arm();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer !== null) {
          timers.clear(timer);
          timer = null;
        }
      };
    },
    now: () => {
      // Read before anything subscribed (a first render), a value left from long ago would flash a wrong countdown.
      // Refreshed at most once a second, so repeated reads in one render agree, as useSyncExternalStore requires.
      if (listeners.size === 0 && clock() - current >= 1_000) current = clock();
      return current;
    },
  };
}

const shared = createTicker();
export const subscribeTick = shared.subscribe;
export const tickNow = shared.now;
