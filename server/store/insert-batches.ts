/**
 * Bound parameters per statement: under SQLite's limit (32,766 since 3.32, 999 in older builds) and
 * PostgreSQL's (65,535). A multi-row insert over the limit fails as a whole, so rows go in batches.
 */
export const MAX_PARAMETERS = 999;

/**
 * `rows` cut into batches a multi-row insert can bind: each batch has at most MAX_PARAMETERS values
 * across the columns any of the rows sets. Inserted one after another in one transaction, they
 * commit or roll back together as one statement would.
 */
export function insertBatches<R extends object>(rows: readonly R[]): R[][] {
  const columns = new Set<string>();
  for (const row of rows) for (const [column, value] of Object.entries(row)) if (value !== undefined) columns.add(column);
  const size = Math.max(1, Math.floor(MAX_PARAMETERS / Math.max(1, columns.size)));
  const batches: R[][] = [];
  for (let start = 0; start < rows.length; start += size) batches.push(rows.slice(start, start + size));
  return batches;
}
