import type { TimerHandle } from './clock.js';
import type { Context } from './domain/context.js';
import { inTransaction } from './domain/context.js';
import { applyDeadline, type AfterCommit } from './domain/lifecycle/due.js';

/** How long the scheduler works through due deadlines before it lets other I/O run. */
const SLICE_MS = 5;

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
    do {
      this.again = false;
      while (!this.stopped && (await this.fireOne())) {
        // On SQLite every step of a firing settles as a microtask, so a backlog (thousands of deadlines
        // missed while the hub was down) would run start to end without letting any I/O in: no HTTP
        // replies, no socket pings. Give the event loop a turn every few milliseconds of it.
        if (performance.now() - slice > SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          slice = performance.now();
        }
      }
    } while (this.again && !this.stopped);
    if (!this.stopped) await this.armNext();
  }

  private async fireOne(): Promise<boolean> {
    const { ctx } = this;
    const now = ctx.clock.now();
    let after: AfterCommit | undefined;
    let fired: { id: string; kind: string; due_at: string } | undefined;
    try {
      fired = await inTransaction(ctx, async (trx) => {
        let query = trx.selectFrom('deadlines').selectAll().where('done', '=', 0).where('due_at', '<=', now.toISOString()).orderBy('due_at').limit(1);
        if (ctx.store.dialect === 'postgres') query = query.forUpdate().skipLocked();
        const deadline = await query.executeTakeFirst();
        if (!deadline) return undefined;
        const result = await applyDeadline(ctx, trx, deadline);
        if (result.postponedTo) {
          await trx.updateTable('deadlines').set({ due_at: result.postponedTo }).where('id', '=', deadline.id).execute();
        } else {
          await trx.updateTable('deadlines').set({ done: 1 }).where('id', '=', deadline.id).execute();
        }
        after = result.after;
        return deadline;
      });
    } catch (error) {
      ctx.log.error({ err: error }, 'applying a deadline failed; it will be retried');
      this.backoffUntil = ctx.clock.now().getTime() + 1000;
      return false;
    }
    if (!fired) return false;
    this.options.onFired?.(fired.kind, now.getTime() - new Date(fired.due_at).getTime());
    if (after) {
      try {
        for (const event of await after()) ctx.bus.emit(event);
      } catch (error) {
        ctx.log.error({ err: error }, 'announcing a fired deadline failed');
      }
    }
    return true;
  }

  private async armNext(): Promise<void> {
    try {
      const next = await this.ctx.store.db.selectFrom('deadlines').select((eb) => eb.fn.min('due_at').as('due')).where('done', '=', 0).executeTakeFirst();
      const due = next?.due ?? null;
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
      void this.runNow();
    }, Math.max(0, delay));
  }
}
