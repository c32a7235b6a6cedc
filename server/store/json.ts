import type { z } from 'zod';

/**
 * JSON with keys sorted at every level, so the same value always hashes the same. Written out
 * directly rather than through a sorted copy: it runs for every audit event. Same output as
 * `JSON.stringify` of a copy with sorted keys (and undefined members dropped): no `toJSON`.
 */
export function canonicalJson(value: unknown): string {
  return write(value) as string;
}

function write(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index++) out += `${index ? ',' : ''}${write(value[index]) ?? 'null'}`;
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  let out = '{';
  for (const key of sortedKeys(record)) {
    const item = write(record[key]);
    if (item === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${item}`;
  }
  return `${out}}`;
}

// An array-index key ("0", "17") is enumerated before the others by any object, sorted copy included.
const isIndexKey = (key: string) => /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;

function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record).sort();
  if (!keys.some(isIndexKey)) return keys;
  const indexKeys = keys.filter(isIndexKey).sort((a, b) => Number(a) - Number(b));
  return [...indexKeys, ...keys.filter((key) => !isIndexKey(key))];
}

/**
 * A stored document checked against its schema, or null: text that is not JSON at all (a damaged
 * row) is refused the same way as JSON of the wrong shape, never thrown at the reader.
 */
export function readStoredJson<T>(schema: z.ZodType<T>, text: string): T | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export function parseJsonColumn<T>(text: string): T {
  return JSON.parse(text) as T;
}

/**
 * The decoder of a column that holds one of a closed set of strings: anything else is a damaged
 * database, and says so. A set lookup rather than a schema, as views decode many rows.
 */
export function decodeOneOf<const T extends string>(values: readonly T[], what: string): (text: string) => T {
  const known: ReadonlySet<string> = new Set(values);
  const expected = values.length === 2 ? `is neither ${values[0]} nor ${values[1]}` : `is not one of ${values.join(', ')}`;
  return (text) => {
    if (!known.has(text)) throw new Error(`${what} "${text}" ${expected}`);
    return text as T;
  };
}

/** A column holding a JSON list of strings; anything else is a damaged database, and says so (`what` and `items` name them). */
export function decodeStringList(text: string, what: string, items: string): string[] {
  const list: unknown = JSON.parse(text);
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw new Error(`${what} ${text} are not a list of ${items}`);
  return list;
}
