import { z } from 'zod';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const weekdaySchema = z.enum(WEEKDAYS);
export type Weekday = z.infer<typeof weekdaySchema>;

const clockTimeSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as HH:MM, 00:00 to 23:59');

/** Whether the runtime's time-zone database knows this IANA name (Europe/Berlin, UTC, …). */
export function isKnownTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A weekly window in a time zone; `to` at or before `from` runs past midnight into the next day. */
export const accessWindowSchema = z
  .strictObject({
    days: z.array(weekdaySchema).min(1, 'name at least one day'),
    from: clockTimeSchema,
    to: clockTimeSchema,
    timezone: z.string().min(1).refine(isKnownTimeZone, { message: 'unknown time zone; use an IANA name such as Europe/Berlin' }),
  })
  .refine((window) => window.from !== window.to, { path: ['to'], message: 'a window needs from and to to differ' });
export type AccessWindow = z.infer<typeof accessWindowSchema>;
