/** A NUL (PostgreSQL text can't hold it) or a UTF-16 surrogate without its pair (UTF-8 can't encode it). */
const UNSTORABLE = /[\0\p{Cs}]/u;

type Path = (string | number)[];

/**
 * The first non-null answer of `check` for each string and object key in `value`, depth first.
 * `path` says where the text is; it is one array that changes as the walk goes on (every request
 * body is walked, so no array per field), so a check that keeps it keeps a copy.
 */
export function firstInText<T>(value: unknown, check: (text: string, path: readonly (string | number)[]) => T | null): T | null {
  return walk(value, check, []);
}

function walk<T>(value: unknown, check: (text: string, path: readonly (string | number)[]) => T | null, path: Path): T | null {
  if (typeof value === 'string') return check(value, path);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      path.push(index);
      const found = walk(value[index], check, path);
      path.pop();
      if (found !== null) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      path.push(key);
      const found = check(key, path) ?? walk((value as Record<string, unknown>)[key], check, path);
      path.pop();
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
  return firstInText(value, (text, path) => (UNSTORABLE.test(text) ? [...path] : null));
}
