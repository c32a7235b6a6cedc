import { describe, expect, it } from 'vitest';
import { takeLinkToken } from './link-token.js';

/** A location and a history that records what replaceState was asked to do. */
function page(hash: string, pathname = '/', search = '') {
  const replaced: string[] = [];
  const history = { state: { kept: true }, replaceState: (_state: unknown, _unused: string, url?: string | URL | null) => void replaced.push(String(url)) };
  return { location: { hash, pathname, search }, history, replaced };
}

describe('a sign-in link', () => {
  it('gives its token once and takes the fragment off the address without a new history entry', () => {
    const link = page('#token=glt_abcdefghijklmnopqrstuv', '/', '?view=inbox');
    expect(takeLinkToken(link.location, link.history)).toBe('glt_abcdefghijklmnopqrstuv');
    expect(link.replaced).toEqual(['/?view=inbox']);
  });

  it('leaves an address without a token alone', () => {
    for (const hash of ['', '#', '#inbox', '#tokens=x']) {
      const plain = page(hash);
      expect(takeLinkToken(plain.location, plain.history)).toBeNull();
      expect(plain.replaced).toEqual([]);
    }
  });

  it('still clears an empty or oversized token from the address, and offers nothing to sign in with', () => {
    for (const hash of ['#token=', `#token=${'x'.repeat(600)}`]) {
      const bad = page(hash);
      expect(takeLinkToken(bad.location, bad.history)).toBeNull();
      expect(bad.replaced).toEqual(['/']);
    }
  });
});
