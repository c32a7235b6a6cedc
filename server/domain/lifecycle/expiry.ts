import type { Transaction } from 'kysely';
import { GreenlightError } from '../../../protocol/index.js';
import type { Database } from '../../store/schema.js';
import { requestStore, type RequestRecord } from '../../store/requests.js';
import { SYSTEM_ACTOR_NAME } from '../actor.js';
import { announce } from '../announce.js';
import { inTransaction, type Context } from '../context.js';
import { transition } from './transition.js';

/** What asking for a request that is not there is told. */
const noSuchRequest = (id: string): GreenlightError => new GreenlightError('NOT_FOUND', `No request ${id}.`);

export async function loadRequestRow(executor: Transaction<Database> | Context['store']['db'], id: string): Promise<RequestRecord> {
  const row = await requestStore.byId(executor, id);
  if (!row) throw noSuchRequest(id);
  return row;
}

/** Expires a pending request inside the caller's transaction: the scheduler's expiry, also applied by a decision that finds it overdue. */
export async function expireRequest(ctx: Context, trx: Transaction<Database>, row: RequestRecord): Promise<RequestRecord> {
  return (await transition(ctx, trx, row, 'expire', { actor: SYSTEM_ACTOR_NAME, data: { expiresAt: row.expires_at } })).row;
}

/** A request still pending at `now` though its expiry time has passed: nothing is decided on it, it is expired instead. */
export const pastItsExpiry = (row: RequestRecord, now: Date): boolean => row.status === 'pending' && row.expires_at !== null && row.expires_at <= now.toISOString();

/**
 * Runs `work` on a request in one transaction. A request still pending past its expiry time (the
 * hub was down when it fell due, or another hub's timer hasn't fired yet) is expired instead, that
 * expiry is committed, and the caller hears ALREADY_DECIDED: nothing is decided after its time.
 */
export async function onUnexpiredRequest<T>(
  ctx: Context,
  requestId: string,
  refusal: string,
  /** Throws for a caller with no part in the request, before anything is applied or told. */
  admit: (current: RequestRecord) => void,
  work: (trx: Transaction<Database>, current: RequestRecord) => Promise<T>,
): Promise<T> {
  const outcome = await inTransaction(ctx, async (trx): Promise<{ expired: RequestRecord } | { done: T }> => {
    const current = await loadRequestRow(trx, requestId);
    admit(current);
    if (pastItsExpiry(current, ctx.clock.now())) return { expired: await expireRequest(ctx, trx, current) };
    return { done: await work(trx, current) };
  });
  if ('done' in outcome) return outcome.done;
  await announce(ctx, outcome.expired, null);
  throw new GreenlightError('ALREADY_DECIDED', `This request expired at ${outcome.expired.expires_at ?? 'its deadline'}; ${refusal}`);
}
