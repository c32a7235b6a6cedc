import type { Logger } from 'pino';
import type { Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Store } from '../store/database.js';
import type { Database } from '../store/schema.js';
import type { PolicyHolder } from './policy.js';
import type { HubBus } from './bus.js';
import type { SigningKeyRing } from './signing-keys.js';
import type { GrantTokenSeal } from '../keys/grant-token-seal.js';
import type { AuditInput } from './audit.js';
import type { GroupCommit } from './group-commit.js';
import type { ActorCache } from './actor-cache.js';
import type { LastSeen } from './last-seen.js';
import type { Turns } from './turns.js';
import type { ViewCache } from './view-cache.js';
import { appendAudit, holdChainHead, takeChainHeadWrite } from './audit.js';
import { takeDeferredInserts } from '../store/deferred-inserts.js';
import { executeTogether } from '../store/execute-together.js';
import { takePendingPlacesWrite } from './pending-places.js';
import type { AuditEvent } from '../../protocol/index.js';
import type { Outbox } from '../notify/outbox.js';
import type { DelegateIndex } from './delegate-index.js';
import type { TokenLookups } from '../identity/token-lookups.js';
import type { PolicyAgreement } from './policy-agreement.js';

/** Everything the domain needs, built once by the hub and passed down. */
export interface Context {
  store: Store;
  clock: Clock;
  log: Logger;
  policy: PolicyHolder;
  bus: HubBus;
  keys: SigningKeyRing;
  /** Seals grant tokens for the database and the other hubs, and opens them for their requesters. */
  grantTokens: GrantTokenSeal;
  /** Remembers who tokens belong to; null where another hub may change users (PostgreSQL). */
  actors: ActorCache | null;
  /** Finds tokens with their users; lookups arriving together share one statement. */
  tokens: TokenLookups;
  /** Records, off the hot path, when each user last authenticated. */
  lastSeen: LastSeen;
  /** Where submissions are written: those arriving together share one transaction. */
  submissions: GroupCommit;
  /** Long reads (syncs) run in pieces, one piece per pass of the event loop. */
  turns: Turns;
  /** Views of unchanged requests, reused by syncs. */
  views: ViewCache;
  /** Tells the scheduler a deadline was written, so it can arm its timer earlier if needed. */
  deadlineWritten(dueAt: string): void;
  /** Notification channels (webhooks); with none configured, nothing is written to the outbox. */
  outbox?: Outbox;
  /** Hears how far the audit chain has grown after each commit, to sign a checkpoint every N events. */
  chainAdvanced?: (seq: number) => void;
  /** Delegations not yet over, so pushes reach the delegates of those they go to. */
  delegates?: DelegateIndex;
  /** PostgreSQL: the policy digests the other hubs on the database announced, against this hub's. */
  peerPolicies?: PolicyAgreement;
  /** PostgreSQL: how far this hub's system clock is ahead of the database's, in milliseconds (negative: behind; null until measured). */
  ownClockAheadMs?: () => number | null;
}

interface Hooks {
  committed: (() => void)[];
  failed: (() => void)[];
}

const transactionHooks = new WeakMap<Transaction<Database>, Hooks>();

/** Runs `hook` once the transaction `trx` of `inTransaction` has committed, or `otherwise` if it failed. */
export function afterCommit(trx: Transaction<Database>, hook: () => void, otherwise?: () => void): void {
  let hooks = transactionHooks.get(trx);
  if (!hooks) transactionHooks.set(trx, (hooks = { committed: [], failed: [] }));
  hooks.committed.push(hook);
  if (otherwise) hooks.failed.push(otherwise);
}

function runHooks(trx: Transaction<Database> | null, which: keyof Hooks): void {
  const hooks = trx ? transactionHooks.get(trx) : undefined;
  if (!hooks || !trx) return;
  transactionHooks.delete(trx);
  for (const hook of hooks[which]) hook();
}

/** Thrown inside a transaction when a conditional update lost a race; the transaction is retried. */
export class LostRace extends Error {
  constructor() {
    super('lost a race with a concurrent change');
  }
}

const RETRIES = 8;

/**
 * Runs `work` in one transaction, retrying when it lost an optimistic-concurrency race.
 *
 * On PostgreSQL it first takes the audit chain's head (a row lock held to commit), before any other
 * lock: nearly every writer appends to the chain, so if some locked rows first and the head later,
 * two of them could each hold what the other waits for (a decision holding its request while a
 * deadline batch holding the head waits for it), and PostgreSQL would abort one after a second.
 * `chainFirst: false` is for a transaction that appends nothing and waits on no row lock.
 */
export async function inTransaction<T>(ctx: Pick<Context, 'store' | 'chainAdvanced'>, work: (trx: Transaction<Database>) => Promise<T>, options: { chainFirst?: boolean } = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let current = null as Transaction<Database> | null;
    let headSeq: number | null = null;
    try {
      const result = await ctx.store.db.transaction().execute(async (trx) => {
        current = trx;
        if (ctx.store.dialect === 'postgres' && options.chainFirst !== false) holdChainHead(trx, ctx.store.dialect);
        const result = await work(trx);
        headSeq = await writeBeforeCommit(trx, ctx.store.dialect);
        return result;
      });
      runHooks(current, 'committed');
      if (headSeq !== null) ctx.chainAdvanced?.(headSeq);
      return result;
    } catch (error) {
      runHooks(current, 'failed');
      const retryable = error instanceof LostRace || isSerializationFailure(error);
      if (!retryable || attempt >= RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
    }
  }
}

/**
 * What the transaction left to write: the places taken under pending caps, the queued rows and the
 * audit chain's head, in one statement on PostgreSQL. Returns the head's new seq, if it moved.
 */
async function writeBeforeCommit(trx: Transaction<Database>, dialect: string): Promise<number | null> {
  // First: it waits for every append to have queued its row.
  const head = await takeChainHeadWrite(trx);
  // Sent ahead of the commit that follows: the two go in one round trip, and a failure of the
  // writes fails the commit.
  await executeTogether(trx, dialect, [...takePendingPlacesWrite(trx), ...takeDeferredInserts(trx), ...(head ? [head.statement] : [])], { commitFollows: true });
  return head?.seq ?? null;
}

function isSerializationFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // PostgreSQL: serialization failure, deadlock, or a unique violation from a racing insert of the same
  // key (the retry then finds the row the other transaction wrote).
  return code === '40001' || code === '40P01' || code === '23505';
}

export function audit(ctx: Context, trx: Transaction<Database>, input: AuditInput): Promise<AuditEvent> {
  return appendAudit(trx, ctx.store.dialect, ctx.clock.now(), input);
}
