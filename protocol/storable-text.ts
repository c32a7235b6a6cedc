/** A NUL (PostgreSQL text can't hold it) or a UTF-16 surrogate without its pair (UTF-8 can't encode it). */
const UNSTORABLE = /[\0\p{Cs}]/u;

/**
 * The path of the first string (or object key) in `value` that can't be stored as written, or null.
 * SQLite would replace a lone surrogate on the way in, so what was stored would no longer match the
 * audit hash computed from it; PostgreSQL refuses NUL outright. Both are refused at the edge instead.
 */
export function findUnstorableText(value: unknown, path: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : null;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findUnstorableText(value[index], [...path, index]);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return [...path, key];
      const found = findUnstorableText(member, [...path, key]);
      if (found) return found;
    }
  }
  return null;
}
