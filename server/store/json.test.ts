import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson } from './json.js';

/** The definition the audit chain and grant payload hashes were first written with. */
function reference(value: unknown): string {
  const sortKeys = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(sortKeys);
    if (item && typeof item === 'object') {
      return Object.fromEntries(
        Object.keys(item as Record<string, unknown>)
          .sort()
          .filter((key) => (item as Record<string, unknown>)[key] !== undefined)
          .map((key) => [key, sortKeys((item as Record<string, unknown>)[key])]),
      );
    }
    return item;
  };
  return JSON.stringify(sortKeys(value));
}

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: undefined }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"z":null}]},"b":1}');
  });

  it('writes exactly what the original definition wrote, so existing hashes still verify', () => {
    const withUndefined = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue(),
        fc.constant(undefined),
        fc.array(tie('value')),
        fc.dictionary(fc.string(), tie('value')),
      ),
    })).value;
    fc.assert(fc.property(withUndefined, (value) => canonicalJson(value) === reference(value)), { numRuns: 2000 });
  });
});
