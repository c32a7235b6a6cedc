import { z } from 'zod';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const DURATION = /^(\d+)(s|m|h|d)$/;

/** Reads `30s`, `5m`, `1h`, `2d` (or `0s`) as seconds; null when the text is not a duration. */
function readDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
}

/** Parses `30s`, `5m`, `1h`, `2d` into seconds; returns null when the text is not a duration longer than zero. */
export function parseDuration(text: string): number | null {
  const seconds = readDuration(text);
  return seconds !== null && seconds > 0 ? seconds : null;
}

export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d${s % 86_400 >= 3600 ? ` ${Math.floor((s % 86_400) / 3600)}h` : ''}`;
}

/**
 * Ten years: longer than any policy time needs, far short of where a date it is added to would pass
 * 9999 (which instants refuse, see instant.ts) or leave what a JavaScript date can hold.
 */
export const MAX_POLICY_DURATION_SECONDS = 3650 * 86_400;

/**
 * A policy duration written as `30s` / `5m` / `1h` / `2d`, parsed to seconds. Every one is capped
 * here, so no field can be left off a list: a longer one would load and then fail each request,
 * approval or break-glass use it is added to.
 *
 * `zero` says what `0s` does in this field: `'none'` where it means none (no cooldown, no
 * extensions), otherwise why it is refused, which ends the error after "must be longer than 0s: ".
 */
export function durationSchema(zero: 'none' | { refused: string }) {
  return z.string().transform((text, ctx) => {
    const seconds = readDuration(text);
    if (seconds === null) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 30s, 5m, 1h or 2d' });
      return z.NEVER;
    }
    if (seconds === 0 && zero !== 'none') {
      ctx.addIssue({ code: 'custom', message: `must be longer than 0s: ${zero.refused}` });
      return z.NEVER;
    }
    if (seconds > MAX_POLICY_DURATION_SECONDS) {
      ctx.addIssue({ code: 'custom', message: `at most ${MAX_POLICY_DURATION_SECONDS / 86_400}d (ten years)` });
      return z.NEVER;
    }
    return seconds;
  });
}
