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
const READ_TIMEOUT_MS = 5_000;

/** The database's time now, in milliseconds since the epoch, as one query reads it. */
export type ReadDatabaseTime = () => Promise<number>;

/** PostgreSQL's time as it runs the query (not its transaction's start, which `now()` gives). */
export async function readDatabaseTime(pool: pg.Pool): Promise<number> {
  const result = await pool.query<{ ms: number }>('select extract(epoch from clock_timestamp())::float8 * 1000 as ms');
  const ms = result.rows[0]?.ms;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new Error(`PostgreSQL answered its time as ${JSON.stringify(ms)}`);
  return ms;
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
 */
export class DatabaseClock {
  /** The database's clock minus this hub's, as last measured. */
  private offsetMs = 0;
  private measuredOnce = false;
  /** The offset last warned about, while one is. */
  private warnedOffsetMs: number | null = null;
  private measuring: Promise<void> | null = null;
  private lastMeasuredAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private readonly measuredListeners = new Set<() => void>();

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

  /** Measures now, then every `everyMs`. */
  async start(everyMs = MEASURE_EVERY_MS): Promise<void> {
    await this.measure();
    this.timer = setInterval(() => this.measureSoon('periodic'), everyMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
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
    const before = this.measuredOnce ? this.offsetMs : null;
    this.offsetMs = best.offsetMs;
    this.measuredOnce = true;
    this.say(best.roundTripMs);
    if (before !== null) this.corrected(best.offsetMs - before);
    for (const listener of this.measuredListeners) listener();
  }

  private say(roundTripMs: number): void {
    const aheadMs = -this.offsetMs;
    const details = { aheadSeconds: Math.round(aheadMs / 100) / 10, roundTripMs: Math.round(roundTripMs) };
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
