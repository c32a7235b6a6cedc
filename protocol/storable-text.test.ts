import { describe, expect, it } from 'vitest';
import { findUnstorableText } from './storable-text.js';

describe('findUnstorableText', () => {
  it('names where the first NUL or lone surrogate is, in values and in keys, however deep', () => {
    expect(findUnstorableText({ reason: 'ok', context: { links: [{ title: 'fine' }, { title: 'a\0b' }] } })).toEqual(['context', 'links', 1, 'title']);
    expect(findUnstorableText({ context: { fields: { ['bad\uD800']: 'x' } } })).toEqual(['context', 'fields', 'bad\uD800']);
    expect(findUnstorableText({ reason: 'fine', context: { fields: { a: 'b' } } })).toBeNull();
  });

  it('answers paths that later walks do not change', () => {
    const first = findUnstorableText({ a: [{ b: '\0' }] });
    findUnstorableText({ x: { y: { z: '\0' } } });
    expect(first).toEqual(['a', 0, 'b']);
  });
});
