import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalJson, decodeOneOf, decodeStringList } from './json.js';

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

describe('decodeOneOf', () => {
  const decodeColour = decodeOneOf(['red', 'green', 'blue'], 'colour');

  it('passes on a value of the set, typed as one', () => {
    const colour: 'red' | 'green' | 'blue' = decodeColour('green');
    expect(colour).toBe('green');
  });

  it('refuses anything else, naming the column and what it may hold', () => {
    expect(() => decodeColour('Red')).toThrow('colour "Red" is not one of red, green, blue');
    expect(() => decodeColour('')).toThrow('colour "" is not one of red, green, blue');
  });

  it('says "neither … nor" for a set of two', () => {
    expect(() => decodeOneOf(['approve', 'deny'], 'decision')('abstain')).toThrow('decision "abstain" is neither approve nor deny');
  });
});

describe('decodeStringList', () => {
  it('passes on a JSON list of strings', () => {
    expect(decodeStringList('["sre","security"]', 'reviewers', 'groups')).toEqual(['sre', 'security']);
    expect(decodeStringList('[]', 'reviewers', 'groups')).toEqual([]);
  });

  it('refuses JSON that is not a list of strings, naming the column and its items', () => {
    for (const text of ['"sre"', '["sre",1]', '{"0":"sre"}', 'null']) {
      expect(() => decodeStringList(text, 'reviewers', 'groups')).toThrow(`reviewers ${text} are not a list of groups`);
    }
  });

  it('refuses text that is not JSON at all', () => {
    expect(() => decodeStringList('[sre', 'reviewers', 'groups')).toThrow(SyntaxError);
  });
});
