import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GrantTokenSeal, type SealedFor } from './grant-token-seal.js';

const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJqdGkiOiJnbnRfMSJ9.c2lnbmF0dXJl';
const GRANT: SealedFor = { jti: 'gnt_1', requestId: 'req_1' };

describe('a grant token sealed for the database', () => {
  const kek = randomBytes(32);
  const unopened: string[] = [];
  const seal = new GrantTokenSeal(kek, (grant, where) => unopened.push(`${grant.jti} ${where}`));

  it('holds nothing of the token, and opens for its grant with the same key-encryption key', () => {
    const sealed = seal.seal(GRANT, TOKEN);
    expect(sealed).toMatch(/^enc:v1:/);
    expect(sealed).not.toContain('c2lnbmF0dXJl');
    expect(new GrantTokenSeal(kek).open(GRANT, sealed)).toBe(TOKEN);
    expect(new GrantTokenSeal(kek).openStored(GRANT, sealed)).toBe(TOKEN);
  });

  it('does not open for another grant or request, with another key, or once altered, and says so', () => {
    unopened.length = 0;
    const sealed = seal.seal(GRANT, TOKEN);
    expect(seal.open({ ...GRANT, jti: 'gnt_2' }, sealed)).toBeNull();
    expect(seal.openStored({ ...GRANT, requestId: 'req_2' }, sealed)).toBeNull();
    expect(new GrantTokenSeal(randomBytes(32)).open(GRANT, sealed)).toBeNull();
    const altered = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'BB' : 'AA');
    expect(seal.open(GRANT, altered)).toBeNull();
    expect(unopened).toEqual(['gnt_2 from another hub', 'gnt_1 in the database', 'gnt_1 from another hub']);
  });

  it('stored in plain by an earlier version is read as it is from the database, but never from another hub', () => {
    expect(seal.openStored(GRANT, TOKEN)).toBe(TOKEN);
    expect(seal.open(GRANT, TOKEN)).toBeNull();
  });
});
