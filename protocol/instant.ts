import { z } from 'zod';

/** The first instant of 1970 and of 10000, in UTC: the years whose ISO text is four digits and sorts as time does. */
const EARLIEST = Date.UTC(1970, 0, 1);
const PAST_LATEST = Date.UTC(10_000, 0, 1);

/**
 * An RFC 3339 date-time with its offset (`2026-12-24T23:00:00+01:00` or `…Z`), normalised to UTC.
 * Without an offset a time would be read in the hub's zone; a day that does not exist (02-31) is
 * refused, not rolled over.
 * The hub keeps instants as ISO text and compares them as text, so one outside 1970–9999 in UTC is
 * refused: `0000-01-01T00:00:00+00:01` would be stored as `-000001-12-31T23:59:00.000Z`, and
 * `9999-12-31T23:59:59-23:59` as `+010000-…`, which sorts before every date of this century.
 */
export const instantSchema = z.iso
  .datetime({ offset: true, message: 'expected an RFC 3339 date and time with its offset, such as 2026-12-24T23:00:00+01:00' })
  .transform((text, ctx) => {
    const at = Date.parse(text);
    if (at < EARLIEST || at >= PAST_LATEST) {
      ctx.addIssue({ code: 'custom', message: 'expected a date and time between 1970 and 9999 (in UTC)' });
      return z.NEVER;
    }
    return new Date(at).toISOString();
  });
