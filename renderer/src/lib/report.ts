import { formatDuration } from '../../../protocol/duration.js';

export const REPORT_RANGES = [
  { days: 7, label: 'the last 7 days' },
  { days: 30, label: 'the last 30 days' },
  { days: 90, label: 'the last 90 days' },
  { days: 365, label: 'the last 365 days' },
] as const;

/** The report endpoint's query for the `days` up to `now` (the hub's time, in ms). */
export function reportQuery(days: number, now: number): string {
  const params = new URLSearchParams({ from: new Date(now - days * 86_400_000).toISOString(), to: new Date(now).toISOString() });
  return params.toString();
}

/** "2m 30s", or a dash where no request was decided by a person. */
export const formatSeconds = (seconds: number | null): string => (seconds === null ? '—' : formatDuration(seconds));

/** "29%": a share as a whole percentage. */
export const formatShare = (share: number): string => `${Math.round(share * 100)}%`;

const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 14_400, 21_600, 43_200, 86_400];

/** A tick step in round units (30s, 2m, 15m, 1h…) that puts about `ticks` marks on an axis up to `maxSeconds`. */
export function niceStep(maxSeconds: number, ticks = 5): number {
  const wanted = maxSeconds / ticks;
  return STEPS.find((step) => step >= wanted) ?? Math.ceil(wanted / 86_400) * 86_400;
}
