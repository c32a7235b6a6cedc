/**
 * When to try a delivery again: the Standard Webhooks schedule. Entry n is the wait before attempt
 * n + 1 (the first goes at once); a delivery that fails its last attempt is dead-lettered.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const RETRY_SCHEDULE_MS = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 14 * HOUR, 20 * HOUR, 24 * HOUR] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE_MS.length;

/** The longest a receiver's Retry-After is followed; past it the schedule's own wait applies. */
const MAX_RETRY_AFTER_MS = 24 * HOUR;

/**
 * The wait before the next attempt after `attemptsMade` failed ones, or null when none is left. Up to
 * 10 % jitter spreads retries of many rows that failed together; a receiver's Retry-After is never
 * undercut.
 */
export function nextAttemptDelay(attemptsMade: number, retryAfterMs: number | null, random: () => number = Math.random): number | null {
  if (attemptsMade >= MAX_ATTEMPTS) return null;
  const base = RETRY_SCHEDULE_MS[attemptsMade] ?? 0;
  const jittered = Math.round(base * (1 + 0.1 * random()));
  return retryAfterMs === null ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/** `Retry-After` as delay-seconds or an HTTP date, in milliseconds from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | null {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * SECOND;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}
