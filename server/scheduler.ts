import type { TimerHandle } from './clock.js';
import type { Context } from './domain/context.js';
import { inTransaction } from './domain/context.js';
import { applyDeadline, type AfterCommit } from './domain/lifecycle/due.js';
import { deadlineStore, type DeadlineRecord } from './store/deadlines.js';
import { detached } from './detached.js';

/** How long the scheduler works through due deadlines before it lets other I/O run. */
const SLICE_MS = 5;
/** Due deadlines claimed per transaction on PostgreSQL (see `fireOne`). */
const PG_BATCH = 32;
/** A deadline that failed is moved this much later, doubling with each failure in a row up to `RETRY_MAX_MS`. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;
/**
 * Deadlines moved in a row with none applied between: past this, the fault is likely not theirs
 * (the database refuses writes, a notifier throws for everyone), so the scheduler pauses instead of
 * moving the whole backlog later, and what is due fires as soon as the fault clears.
 */
const POSTPONED_IN_A_ROW = 3;
/** Deadlines whose failures are remembered; the oldest is forgotten past this. */
const FAILURES_REMEMBERED = 1000;

export interface SchedulerOptions {
  /**
   * Longest sleep between checks. With several hubs on one database another hub may write an
   * earlier deadline this one never hears of, so it looks again at least this often.
   */
  maxSleepMs?: number;
  onFired?: (kind: string, lagMs: number) => void;
}

/**
 * Durable timers: every deadline is a row; one timer is armed for the earliest. On fire, each due
 * row is claimed and applied in its own transaction (SKIP LOCKED on PostgreSQL, so with several
 * hubs each fires once), marked done, and announced after commit.
 */
export class Scheduler {
  private timer: TimerHandle | null = null;
  private armedFor: string | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private started = false;
  private backoffUntil = 0;
  /** Failures in a row of deadlines that failed to apply, by id: how far the next retry is moved. */
  private readonly failures = new Map<string, number>();
  private postponedInARow = 0;

  constructor(
    private readonly ctx: Context,
    private readonly options: SchedulerOptions = {},
  ) {}

  /** Fires whatever fell due while the hub was down, in deadline order, then arms the timer. */
  start(): Promise<void> {
    this.stopped = false;
    this.started = true;
    return this.runNow();
  }

  /** Started and not stopped: deadlines are being watched (readiness reports it). */
  get isRunning(): boolean {
    return this.started && !this.stopped;
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.ctx.clock.clearTimer(this.timer);
    this.timer = null;
    return this.running ?? Promise.resolve();
  }

  deadlineWritten(dueAt: string): void {
    if (this.stopped) return;
    if (this.armedFor === null || dueAt < this.armedFor) this.arm(dueAt);
  }

  /** Runs due deadlines now and resolves when the scheduler is idle again (tests use it after moving the clock). */
  runNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    let slice = performance.now();
    let step: boolean | null = false;
    do {
      do {
        this.again = false;
        while (!this.stopped && (step = await this.fireOne())) {
          // On SQLite every step of a firing settles as a microtask, so a backlog (thousands of deadlines
          // missed while the hub was down) would run start to end without letting any I/O in: no HTTP
          // replies, no socket pings. Give the event loop a turn every few milliseconds of it.
          if (performance.now() - slice > SLICE_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            slice = performance.now();
          }
        }
        // After a failure the timer resumes once the pause is over, whoever asked for a run meanwhile.
      } while (this.again && step !== null && !this.stopped);
      if (!this.stopped) await this.armNext();
      // A run asked for while the next wake-up was being read is still answered by this promise: it
      // gets a pass of its own, for deadlines that fell due meanwhile, not the end of the one before.
    } while (this.again && step !== null && !this.stopped);
  }

  /**
   * Claims and applies due deadlines in one transaction. On PostgreSQL up to `PG_BATCH` at a time:
   * each statement is a round trip, and every deadline's audit event waits its turn on the chain
   * head's row lock, so a commit per deadline could not keep up with a steady stream of them. If a
   * batch fails, its deadlines are taken one at a time, so those due before a failing one still
   * fire; the failing one is moved later (`retryLater`), so those due after it fire too.
   */
  private async fireOne(): Promise<boolean | null> {
    const batch = this.ctx.store.dialect === 'postgres' ? PG_BATCH : 1;
    const fired = await this.fire(batch);
    if (fired === null && batch > 1) return this.fire(1);
    return fired;
  }

  /**
   * True when it fired something, or moved a deadline that failed out of the way; false when nothing
   * was due; null when it failed (logged, retried after a pause).
   */
  private async fire(limit: number): Promise<boolean | null> {
    const { ctx } = this;
    const now = ctx.clock.now();
    let fired: { id: string; kind: string; due_at: string; after: AfterCommit | undefined }[];
    // The deadline whose application threw, and what it threw: it is to blame only if that error is
    // the one the transaction ended with (not a later attempt's failure to begin, say).
    const failedApplying: { deadline?: DeadlineRecord; error?: unknown } = {};
    try {
      fired = await inTransaction(ctx, async (trx) => {
        const out: { id: string; kind: string; due_at: string; after: AfterCommit | undefined }[] = [];
        for (const deadline of await deadlineStore.claimDue(trx, now.toISOString(), limit, ctx.store.dialect === 'postgres')) {
          const result = await applyDeadline(ctx, trx, deadline).catch((error: unknown) => {
            failedApplying.deadline = deadline;
            failedApplying.error = error;
            throw error;
          });
          if (result.postponedTo) {
            await deadlineStore.moveTo(trx, deadline.id, result.postponedTo);
          } else {
            await deadlineStore.markDone(trx, deadline.id);
          }
          out.push({ id: deadline.id, kind: deadline.kind, due_at: deadline.dueAt, after: result.after });
        }
        return out;
      });
    } catch (error) {
      if (limit > 1) {
        ctx.log.warn({ err: error, deadlines: limit }, 'applying a batch of deadlines failed; taking them one at a time');
        return null;
      }
      // Only `fire(1)` knows which deadline failed: the one it claimed, if it got that far.
      const blamed = failedApplying.error === error ? failedApplying.deadline : undefined;
      if (blamed && this.postponedInARow < POSTPONED_IN_A_ROW && (await this.retryLater(blamed, error))) {
        this.postponedInARow += 1;
        return true;
      }
      this.postponedInARow = 0;
      ctx.log.error({ err: error }, 'applying a deadline failed; it will be retried');
      this.backoffUntil = ctx.clock.now().getTime() + RETRY_FIRST_MS;
      return null;
    }
    if (fired.length > 0) this.postponedInARow = 0;
    if (this.failures.size) for (const { id } of fired) this.failures.delete(id);
    for (const { kind, due_at } of fired) this.options.onFired?.(kind, now.getTime() - new Date(due_at).getTime());
    // Each announcement reads the request back: read them all at once, announce them in deadline order.
    const announcements = await Promise.allSettled(fired.map(({ after }) => (after ? after() : Promise.resolve([]))));
    for (const announcement of announcements) {
      if (announcement.status === 'rejected') ctx.log.error({ err: announcement.reason }, 'announcing a fired deadline failed');
      else for (const event of announcement.value) ctx.bus.emit(event);
    }
    return fired.length > 0;
  }

  /**
   * Moves a deadline that failed to apply later, further each time it fails again, so those due after
   * it are not held up by it. It stays open: a deadline is never dropped for failing. False when even
   * that failed (the database is likely unreachable).
   */
  private async retryLater(deadline: DeadlineRecord, error: unknown): Promise<boolean> {
    const { ctx } = this;
    const failures = (this.failures.get(deadline.id) ?? 0) + 1;
    const retryAt = new Date(ctx.clock.now().getTime() + Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS)).toISOString();
    try {
      // Unless another hub applied or moved it meanwhile: then it is no longer this hub's to count.
      if (!(await deadlineStore.postpone(ctx.store.db, deadline.id, deadline.dueAt, retryAt))) {
        this.failures.delete(deadline.id);
        return true;
      }
    } catch {
      return false;
    }
    // Re-inserting keeps the map in order of last failure, so the one forgotten is the longest quiet.
    this.failures.delete(deadline.id);
    this.failures.set(deadline.id, failures);
    if (this.failures.size > FAILURES_REMEMBERED) this.failures.delete(this.failures.keys().next().value ?? '');
    const about = deadline.kind === 'delegation_end' ? { delegationId: deadline.delegationId } : { requestId: deadline.requestId };
    ctx.log.warn({ err: error, deadline: deadline.id, kind: deadline.kind, ...about, failures, retryAt }, 'applying a deadline failed; it is retried later');
    return true;
  }

  private async armNext(): Promise<void> {
    try {
      const due = await deadlineStore.nextDue(this.ctx.store.db);
      if (due) this.arm(due);
      else this.arm(null);
    } catch (error) {
      this.ctx.log.error({ err: error }, 'cannot read the next deadline; retrying in 1 s');
      this.arm(new Date(this.ctx.clock.now().getTime() + 1000).toISOString());
    }
  }

  private arm(dueAt: string | null): void {
    if (this.timer) this.ctx.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedFor = dueAt;
    const now = this.ctx.clock.now().getTime();
    let delay = dueAt === null ? Infinity : new Date(dueAt).getTime() - now;
    if (this.options.maxSleepMs !== undefined) delay = Math.min(delay, this.options.maxSleepMs);
    if (!Number.isFinite(delay)) return;
    delay = Math.max(delay, this.backoffUntil - now);
    this.timer = this.ctx.clock.setTimer(() => {
      this.timer = null;
      this.armedFor = null;
      detached(this.ctx.log, 'running due deadlines', () => this.runNow());
    }, Math.max(0, delay));
  }
}
