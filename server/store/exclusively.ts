import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { newId } from '../ids.js';
import { exclusiveClaimStore } from './exclusive-claims.js';
import type { Database } from './schema.js';

interface ClaimingHub {
  store: { db: Kysely<Database>; dialect: 'sqlite' | 'postgres' };
  clock: Clock;
  log: Pick<Logger, 'info'>;
}

/** What `work` holds while it runs. */
export interface Lease {
  /**
   * Extends the claim; call it before each outside call. Throws when another hub took the claim over
   * (this one stalled past its lease), so nothing more is done twice: the attempt fails and is retried.
   */
  renew(): Promise<void>;
}

/**
 * How long a claim keeps other hubs off without being renewed. Longer than any one step of the work
 * (a Slack call times out after 15 s), so only a hub that died, or stalled that long, loses it.
 */
export const CLAIM_LEASE_MS = 120_000;
/** How often a hub waiting for another's claim looks again. */
const LOOK_AGAIN_MS = 500;

const running = new WeakMap<object, Map<string, Promise<unknown>>>();
const owners = new WeakMap<object, string>();
const NO_LEASE: Lease = { renew: () => Promise.resolve() };

/**
 * Runs `work` for `key` one at a time: after any run for the same key on this hub and, on
 * PostgreSQL, on every other hub too. For work with an outside effect that must not happen twice,
 * such as posting a Slack message that is recorded only once posted.
 *
 * No database connection is held while `work` runs: on PostgreSQL the hub claims `key` in a row of
 * its own (one short statement), renews the claim as the work goes on and deletes it when done. A
 * hub finding the claim taken waits, looking again every half second, until it is released or its
 * lease ends. That is the one way the work can happen twice: a hub that died (or stalled past the
 * lease) after its outside call took effect but before it recorded that, is taken over.
 * SQLite has one hub: there the in-process turn is enough.
 *
 * Once `signal` aborts (the hub is stopping), a hub still waiting for another's claim stops waiting
 * and throws `ClaimWaitAborted`: the work is left to a later attempt, and shutdown is not held up
 * for as long as a dead hub's lease.
 */
export async function exclusively<T>(hub: ClaimingHub, key: string, work: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
  let mine = running.get(hub.store);
  if (!mine) running.set(hub.store, (mine = new Map()));
  const before = mine.get(key) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(() => (hub.store.dialect === 'postgres' ? underClaim(hub, key, work, signal) : work(NO_LEASE)));
  mine.set(key, run);
  try {
    return await run;
  } finally {
    if (mine.get(key) === run) mine.delete(key);
  }
}

/** Thrown by `exclusively` when its signal aborted while it waited for another hub's claim. */
export class ClaimWaitAborted extends Error {
  constructor(key: string) {
    super(`stopped waiting for another hub's claim on ${key}: this hub is stopping`);
    this.name = 'ClaimWaitAborted';
  }
}

async function underClaim<T>(hub: ClaimingHub, key: string, work: (lease: Lease) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  const { db } = hub.store;
  let owner = owners.get(hub.store);
  if (!owner) owners.set(hub.store, (owner = newId('hub')));
  const leaseUntil = () => new Date(hub.clock.now().getTime() + CLAIM_LEASE_MS).toISOString();
  let told = false;
  for (;;) {
    if (signal?.aborted) throw new ClaimWaitAborted(key);
    if (await exclusiveClaimStore.take(db, key, owner, hub.clock.now().toISOString(), leaseUntil())) break;
    if (!told) hub.log.info({ claim: key }, 'another hub is doing this now; waiting until it is done or its lease ends');
    told = true;
    await pause(hub.clock, LOOK_AGAIN_MS, signal);
  }
  const holder = owner;
  const lease: Lease = {
    renew: async () => {
      if (!(await exclusiveClaimStore.renew(db, key, holder, leaseUntil()))) throw new Error(`another hub took over ${key} after this one's lease ended; the next attempt sees what was done`);
    },
  };
  try {
    return await work(lease);
  } finally {
    // Should this fail, the claim ends with its lease.
    await exclusiveClaimStore.release(db, key, holder).catch(() => undefined);
  }
}

/** Waits `ms`, or less when `signal` aborts meanwhile. */
function pause(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimer(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
