import { IANAZone } from 'luxon';

/*
 * A zone's clock as a function of time, so a window can be placed exactly where the clock shows its
 * hours, without leaning on how a date library resolves a time skipped or repeated by a clock change.
 * Wall times are "wall ms": the milliseconds since 1970 a UTC clock would show at that date and
 * time, so a date plus a time of day is one addition.
 */

const DAY_MS = 86_400_000;

export interface Stretch {
  start: number;
  end: number;
}

export interface ZoneClock {
  /** The wall ms the clock shows at this instant. */
  wallAt(instant: number): number;
  /**
   * The instants at which the clock shows a time in [fromWall, toWall) (less than a day apart): one
   * stretch; none when the clocks skip all of it; two when they turn back into it partway, so that
   * between the two the clock shows times before `fromWall` again.
   */
  showing(fromWall: number, toWall: number): Stretch[];
}

export function zoneClock(name: string): ZoneClock {
  const zone = IANAZone.create(name);
  const offsetAt = (instant: number) => zone.offset(instant) * 60_000;
  const wallAt = (instant: number) => instant + offsetAt(instant);

  const showing = (fromWall: number, toWall: number): Stretch[] => {
    // A wall time read as an instant is within a day of when the clock shows it, so these instants
    // lie before and after the stretch; no zone changes its clocks twice within those three days.
    const earlier = fromWall - DAY_MS;
    const later = toWall + DAY_MS;
    const before = offsetAt(earlier);
    const after = offsetAt(later);
    if (before === after) return [{ start: fromWall - before, end: toWall - before }];
    let unchanged = earlier;
    let changed = later;
    while (changed - unchanged > 1) {
      const middle = Math.floor((unchanged + changed) / 2);
      if (offsetAt(middle) === before) unchanged = middle;
      else changed = middle;
    }
    // Before the change the clock shows t + before, from it on t + after.
    const pieces = [
      { start: fromWall - before, end: Math.min(toWall - before, changed) },
      { start: Math.max(fromWall - after, changed), end: toWall - after },
    ].filter((piece) => piece.end > piece.start);
    const [first, second] = pieces;
    return first && second && first.end === second.start ? [{ start: first.start, end: second.end }] : pieces;
  };

  return { wallAt, showing };
}
