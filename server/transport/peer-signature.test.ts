import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { PeerSignature } from './peer-signature.js';

const KEK = randomBytes(32);
const MESSAGE = { uid: 'hub-a', type: 9, nsp: '/', data: { packet: ['user:changed', 'usr_1'] } };

describe('a message between hubs', () => {
  // The MessagePack path (a message over 8,000 bytes) is crossed for real in grant-tokens-at-rest.test.ts.
  it('signed by one hub is taken once by another with the same key-encryption key, read back from JSON', () => {
    const signed = new PeerSignature(KEK).sign(MESSAGE);
    const receiver = new PeerSignature(KEK);
    expect(receiver.check(JSON.parse(JSON.stringify(signed)) as typeof signed)).toBe('signed');
    expect(receiver.check(signed)).toBe('replayed');
  });

  it('altered in any part, unsigned, or signed with another key is not taken', () => {
    const signed = new PeerSignature(KEK).sign(MESSAGE);
    const receiver = new PeerSignature(KEK);
    expect(receiver.check({ ...signed, uid: 'hub-b' })).toBe('unsigned');
    expect(receiver.check({ ...signed, type: 6 })).toBe('unsigned');
    expect(receiver.check({ ...signed, data: { packet: ['user:changed', 'usr_2'] } })).toBe('unsigned');
    expect(receiver.check({ ...signed, auth: { ...signed.auth, at: signed.auth.at + 1 } })).toBe('unsigned');
    expect(receiver.check(MESSAGE)).toBe('unsigned');
    expect(receiver.check(new PeerSignature(randomBytes(32)).sign(MESSAGE))).toBe('unsigned');
    expect(receiver.check(signed)).toBe('signed');
  });

  it('sent over a minute before it is heard is not taken', () => {
    vi.useFakeTimers({ now: new Date('2026-12-06T10:00:00Z'), toFake: ['Date'] });
    try {
      const signed = new PeerSignature(KEK).sign(MESSAGE);
      vi.setSystemTime(new Date('2026-12-06T10:01:01Z'));
      expect(new PeerSignature(KEK).check(signed)).toBe('replayed');
    } finally {
      vi.useRealTimers();
    }
  });
});
