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
      expect(new PeerSignature(KEK).check(signed)).toBe('out of time');
    } finally {
      vi.useRealTimers();
    }
  });

  it('timed a little ahead of the hub hearing it is not taken again once it is a minute past hearing', () => {
    vi.useFakeTimers({ now: new Date('2026-12-06T10:00:50Z'), toFake: ['Date'] });
    try {
      const signed = new PeerSignature(KEK).sign(MESSAGE);
      const receiver = new PeerSignature(KEK);
      vi.setSystemTime(new Date('2026-12-06T10:00:00Z'));
      expect(receiver.check(signed)).toBe('signed');
      // 70 s after it was first heard, 20 s after its time: within the minute, so only its nonce tells.
      vi.setSystemTime(new Date('2026-12-06T10:01:10Z'));
      expect(receiver.check(signed)).toBe('replayed');
    } finally {
      vi.useRealTimers();
    }
  });

  it("is timed and checked by the clock it is given (the database's), whatever the hub's own says", () => {
    const databaseNow = Date.now();
    // The sender's own clock is 5 minutes ahead, the receiver's 5 minutes behind; both read the database's.
    vi.useFakeTimers({ now: databaseNow + 300_000, toFake: ['Date'] });
    try {
      const signed = new PeerSignature(KEK, () => databaseNow).sign(MESSAGE);
      vi.setSystemTime(databaseNow - 300_000);
      const receiver = new PeerSignature(KEK, () => databaseNow + 1_000);
      expect(receiver.check(signed)).toBe('signed');
      expect(receiver.check(signed)).toBe('replayed');
      expect(new PeerSignature(KEK, () => databaseNow + 61_000).check(new PeerSignature(KEK, () => databaseNow).sign(MESSAGE))).toBe('out of time');
    } finally {
      vi.useRealTimers();
    }
  });

  describe("heard once, is not taken again when the hub's reading of the database's clock steps back", () => {
    /** The hub's reading of the database's clock, set by hand: a measurement moves it either way. */
    const steppedClock = (startMs: number) => {
      const clock = { ms: startMs, now: () => clock.ms };
      return clock;
    };

    it('by 2 ms, just after it was forgotten at the edge of the minute', () => {
      const clock = steppedClock(Date.parse('2026-12-06T10:00:00Z'));
      const signed = new PeerSignature(KEK, clock.now).sign(MESSAGE);
      const receiver = new PeerSignature(KEK, clock.now);
      expect(receiver.check(signed)).toBe('signed');
      clock.ms += 60_001;
      expect(receiver.check(signed)).toBe('out of time');
      // A measurement's jitter (or one forced by a replayed stale message) moves the reading back a little.
      clock.ms -= 2;
      expect(receiver.check(signed)).toBe('out of time');
      // A message sent now is still taken.
      expect(receiver.check(new PeerSignature(KEK, clock.now).sign(MESSAGE))).toBe('signed');
    });

    it('by 5 minutes, after a correction 5 minutes ahead made it forget everything heard', () => {
      const clock = steppedClock(Date.parse('2026-12-06T10:00:00Z'));
      const signed = new PeerSignature(KEK, clock.now).sign(MESSAGE);
      const receiver = new PeerSignature(KEK, clock.now);
      expect(receiver.check(signed)).toBe('signed');
      // The hub's own clock jumped 5 minutes ahead, and a message heard meanwhile makes it forget.
      clock.ms += 300_000;
      expect(receiver.check(new PeerSignature(KEK, clock.now).sign(MESSAGE))).toBe('signed');
      // Measured again: 5 minutes back, 10 s after the first message was sent.
      clock.ms -= 300_000 - 10_000;
      expect(receiver.check(signed)).toBe('out of time');
      expect(receiver.check(new PeerSignature(KEK, clock.now).sign(MESSAGE))).toBe('signed');
    });
  });
});
