/**
 * Values per `in (…)` list: about half of MAX_PARAMETERS (the oldest SQLite's 999), leaving room for
 * the statement's other parameters.
 */
export const IN_LIST_SIZE = 500;

/**
 * `values` cut into lists one `where … in (…)` can bind each: a list as long as a large group would
 * otherwise pass the database's limit on parameters and fail the statement outright.
 */
export function inLists<T>(values: readonly T[], size = IN_LIST_SIZE): T[][] {
  const lists: T[][] = [];
  for (let start = 0; start < values.length; start += size) lists.push(values.slice(start, start + size));
  return lists;
}
