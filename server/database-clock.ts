import type pg from 'pg';
import type { Logger } from 'pino';
import { withTimeout } from './with-timeout.js';

/** Measured again this often: a clock without NTP drifts by seconds a day, and a jump is caught sooner (`measureSoon`). */
const MEASURE_EVERY_MS = 5 * 60_000;
/** Asked to measure again between times (a message heard out of time, a reconnect), at most this often. */
const MEASURE_SOON_AT_MOST_EVERY_MS = 5_000;
/** How far a hub's own clock may be from the database's before it says so. */
const CLOCK_WARNING_MS = 30_000;
/** Once warned, a change this large in the offset is said again. */
const MATERIAL_CHANGE_MS = 10_000;
/** Readings per measurement: the one with the shortest round trip has the tightest midpoint. */
const READINGS = 3;
/** How long one reading may take; also how long a hub's start waits for its first measurement. */
const READ_TIMEOUT_MS = 5_000;
/** Until a first measurement succeeds, it is tried again this long after a failure, then twice as long each time (up to every `MEASURE_EVERY_MS`). */
const FIRST_RETRY_MS = 1_000;

/** The database's time now, in milliseconds since the epoch, as one query reads it. */
export type ReadDatabaseTime = () => Promise<number>;

/**
 * PostgreSQL's time as it runs the query (not its transaction's start, which `now()` gives). A
 * connection that does not answer within `timeoutMs` is closed, not given back to the pool: on a
 * half-open connection the query would never end, holding one of the pool's connections (and
 * `pool.end()`) for good.
 */
export async function readDatabaseTime(pool: pg.Pool, timeoutMs = READ_TIMEOUT_MS): Promise<number> {
  const client = await pool.connect();
  let answered = false;
  try {
    const result = await withTimeout(client.query<{ ms: number }>('select extract(epoch from clock_timestamp())::float8 * 1000 as ms'), timeoutMs, 'PostgreSQL');
    answered = true;
    const ms = result.rows[0]?.ms;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new Error(`PostgreSQL answered its time as ${JSON.stringify(ms)}`);
    return ms;
  } finally {
    client.release(!answered);
  }
}

/** How far `offsetMs` moved at a measurement; `byMs` positive when the estimate went forward. */
export type Corrected = (byMs: number) => void;

/**
 * One clock every hub of a database agrees on: the database's. Hubs sign the messages they send each
 * other with its time and check the time of those they hear against it, so hubs whose own clocks
 * disagree (a host without NTP, a virtual machine after a suspend) still hear each other. Each hub
 * reads the database's time, takes it as the midpoint of the query's round trip, and keeps the
 * difference to its own clock: at start, every `MEASURE_EVERY_MS`, and soon after being asked
 * (`measureSoon`). Reading a hub's own clock and adding the difference is then as good as asking.
 * A hub that cannot read the database's time at start goes on by its own clock (the difference
 * taken as 0) and tries again until it can.
 */
export class DatabaseClock {
  /** The database's clock minus this hub's, as last measured. */
  private offsetMs = 0;
  private measuredOnce = false;
  /** Started without a measurement: `now()` read this hub's own clock, and what was timed by it may have been refused. */
  private startedUnmeasured = false;
  /** The offset last warned about, while one is. */
  private warnedOffsetMs: number | null = null;
  private measuring: Promise<void> | null = null;
  private lastMeasuredAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private readonly measuredListeners = new Set<() => void>();
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly readDatabaseTime: ReadDatabaseTime,
    private readonly log: Logger,
    /** This hub's own clock (the system's), in milliseconds since the epoch. */
    private readonly ownClock: () => number = Date.now,
    private readonly corrected: Corrected = () => undefined,
  ) {}

  /** The database's time now, in milliseconds since the epoch, by this hub's clock and the last measurement. */
  now(): number {
    return this.ownClock() + this.offsetMs;
  }

  /** How far this hub's own clock is ahead of the database's (negative: behind), in milliseconds; null until measured. */
  ownClockAheadMs(): number | null {
    return this.measuredOnce ? -this.offsetMs : null;
  }

  /** Calls `listener` after each measurement: `ownClockAheadMs` may say something else now. */
  onMeasured(listener: () => void): () => void {
    this.measuredListeners.add(listener);
    return () => this.measuredListeners.delete(listener);
  }

  /** Measures the offset, at most one measurement at a time; rejects if the database does not answer. */
  measure(): Promise<void> {
    this.measuring ??= this.measureOnce().finally(() => {
      this.measuring = null;
      this.lastMeasuredAt = performance.now();
    });
    return this.measuring;
  }

  /** Measures again unless it just did: when something suggests the estimate is off. Failures are logged. */
  measureSoon(why: string): void {
    if (this.measuring || performance.now() - this.lastMeasuredAt < MEASURE_SOON_AT_MOST_EVERY_MS) return;
    this.measure().catch((error: unknown) => this.log.warn({ err: error, why }, "could not read the database's clock; keeping the last measurement"));
  }

  /**
   * Measures now, then every `everyMs`. Never rejects, and waits at most `READ_TIMEOUT_MS`: a hub
   * whose database answers its other queries starts even if this one fails, by its own clock, and
   * measures again after `FIRST_RETRY_MS`, twice as long each time, until it has.
   */
  async start(everyMs = MEASURE_EVERY_MS): Promise<void> {
    this.timer = setInterval(() => this.measureSoon('periodic'), everyMs);
    this.timer.unref();
    try {
      await withTimeout(this.measure(), READ_TIMEOUT_MS, 'PostgreSQL');
    } catch (error) {
      if (this.measuredOnce) return;
      this.startedUnmeasured = true;
      this.log.warn({ err: error }, "could not read the database's clock at start: timing what this hub sends the others by this hub's own clock until it can (trying again)");
      this.retryUntilMeasured(FIRST_RETRY_MS, everyMs);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = null;
    this.retry = null;
  }

  private retryUntilMeasured(afterMs: number, atMostMs: number): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.measuredOnce || this.closed) return;
      this.measure().catch((error: unknown) => {
        if (this.measuredOnce || this.closed) return;
        this.log.warn({ err: error, retryInSeconds: Math.min(afterMs * 2, atMostMs) / 1000 }, "still could not read the database's clock; timing by this hub's own clock");
        this.retryUntilMeasured(Math.min(afterMs * 2, atMostMs), atMostMs);
      });
    }, afterMs);
    this.retry.unref();
  }

  private async measureOnce(): Promise<void> {
    let best: { roundTripMs: number; offsetMs: number } | null = null;
    for (let reading = 0; reading < READINGS; reading += 1) {
      const sentAt = this.ownClock();
      const sentAtMonotonic = performance.now();
      const databaseMs = await withTimeout(this.readDatabaseTime(), READ_TIMEOUT_MS, 'PostgreSQL');
      const roundTripMs = performance.now() - sentAtMonotonic;
      const offsetMs = databaseMs - (sentAt + roundTripMs / 2);
      if (!best || roundTripMs < best.roundTripMs) best = { roundTripMs, offsetMs };
    }
    if (!best) return;
    const before = this.measuredOnce || this.startedUnmeasured ? this.offsetMs : null;
    this.offsetMs = best.offsetMs;
    this.measuredOnce = true;
    this.say(best.roundTripMs);
    if (before !== null) this.corrected(best.offsetMs - before);
    for (const listener of this.measuredListeners) listener();
  }

  private say(roundTripMs: number): void {
    const aheadMs = -this.offsetMs;
    const details = { aheadSeconds: toTenthsOfSeconds(aheadMs), roundTripMs: Math.round(roundTripMs) };
    const warning = clockWarning(aheadMs);
    if (warning) {
      if (this.warnedOffsetMs !== null && Math.abs(this.warnedOffsetMs - this.offsetMs) <= MATERIAL_CHANGE_MS) return;
      this.warnedOffsetMs = this.offsetMs;
      this.log.warn(details, warning);
    } else if (this.warnedOffsetMs !== null) {
      this.warnedOffsetMs = null;
      this.log.info(details, "this hub's system clock agrees with the database's again");
    }
  }
}

/** An offset as logs and the setup status give it: seconds, to a tenth. */
export const toTenthsOfSeconds = (ms: number): number => Math.round(ms / 100) / 10;

/** What to do about a hub's clock `aheadMs` ahead of the database's (negative: behind), in a sentence; null when it is close enough. */
export function clockWarning(aheadMs: number): string | null {
  if (Math.abs(aheadMs) <= CLOCK_WARNING_MS) return null;
  return `This hub's system clock is ${describeOffset(aheadMs)} the database's. Hubs still hear each other (they time what they send each other by the database's clock), but the times this hub records and the deadlines it sets follow its own clock: synchronise it (NTP).`;
}

/** "5 min 3 s ahead of", "42 s behind". */
function describeOffset(aheadMs: number): string {
  const seconds = Math.round(Math.abs(aheadMs) / 1000);
  const amount = seconds >= 60 ? `${Math.floor(seconds / 60)} min${seconds % 60 ? ` ${seconds % 60} s` : ''}` : `${seconds} s`;
  return `${amount} ${aheadMs >= 0 ? 'ahead of' : 'behind'}`;
}
