/** A NUL (PostgreSQL text can't hold it) or a UTF-16 surrogate without its pair (UTF-8 can't encode it). */
const UNSTORABLE = /[\0\p{Cs}]/u;

type Path = (string | number)[];

/** The first non-null answer of `check` for each string and object key in `value`, depth first, with its path. */
export function firstInText<T>(value: unknown, check: (text: string, path: Path) => T | null, path: Path = []): T | null {
  if (typeof value === 'string') return check(value, path);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = firstInText(value[index], check, [...path, index]);
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      const found = check(key, [...path, key]) ?? firstInText(member, check, [...path, key]);
      if (found !== null) return found;
    }
  }
  return null;
}

/**
 * The path of the first string (or object key) in `value` that can't be stored as written, or null.
 * SQLite would replace a lone surrogate on the way in, so what was stored would no longer match the
 * audit hash computed from it; PostgreSQL refuses NUL outright. Both are refused at the edge instead.
 */
export function findUnstorableText(value: unknown): Path | null {
  return firstInText(value, (text, path) => (UNSTORABLE.test(text) ? path : null));
}
