import { describe, expect, it } from 'vitest';
import { describeMisleadingText, findMisleadingText, revealDirectionControls } from './misleading-text.js';

describe('text that would read as something other than what was sent', () => {
  it('finds a direction override, an isolate and a terminal escape, naming the field and the character', () => {
    expect(findMisleadingText({ reason: 'fix \u202Eyalp' })).toEqual({ path: ['reason'], character: 'U+202E', kind: 'direction' });
    expect(findMisleadingText({ context: { fields: { owner: 'a\u2066b' } } })).toEqual({ path: ['context', 'fields', 'owner'], character: 'U+2066', kind: 'direction' });
    expect(findMisleadingText({ comment: 'ok\u001b[2K' })).toEqual({ path: ['comment'], character: 'U+001B', kind: 'control' });
    expect(findMisleadingText({ links: [{ title: 'x\u009b', url: 'https://a.example' }] })).toMatchObject({ path: ['links', 0, 'title'], character: 'U+009B' });
    expect(findMisleadingText({ context: { fields: { ['k\u202D']: 'v' } } })).toMatchObject({ path: ['context', 'fields', 'k\u202D'], kind: 'direction' });
  });

  it('lets through what people write: line breaks, tabs, right-to-left scripts, marks, emoji', () => {
    expect(findMisleadingText({ reason: 'line one\r\nline two\ttabbed', comment: 'שלום עולם \u200F مرحبا', summary: '👩‍💻 deploy' })).toBeNull();
  });

  it('keeps a diff and a log byte for byte, but not other fields of the same name', () => {
    const verbatim = { context: { diff: '+ access = "user\u202E \u2066// admin\u2069"\n', logs: '\u001b[32mok\u001b[0m' } };
    expect(findMisleadingText(verbatim)).toBeNull();
    expect(findMisleadingText({ diff: 'x\u202E' })).toMatchObject({ path: ['diff'] });
    expect(findMisleadingText({ context: { fields: { logs: '\u001b[31m' } } })).toMatchObject({ path: ['context', 'fields', 'logs'] });
  });

  it('says what the character does and what to do', () => {
    expect(describeMisleadingText({ path: ['reason'], character: 'U+202E', kind: 'direction' })).toMatch(/U\+202E.*changes the direction.*remove it/);
    expect(describeMisleadingText({ path: ['reason'], character: 'U+001B', kind: 'control' })).toMatch(/control character U\+001B.*remove it/);
  });

  it('spells out each direction control in place', () => {
    expect(revealDirectionControls('if (role != "user\u202E \u2066// admin\u2069")')).toBe('if (role != "user⟦U+202E⟧ ⟦U+2066⟧// admin⟦U+2069⟧")');
    expect(revealDirectionControls('plain')).toBe('plain');
  });
});
