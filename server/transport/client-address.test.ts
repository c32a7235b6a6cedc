import { describe, expect, it } from 'vitest';
import { clientAddress, throttleKey } from './client-address.js';

describe('the address failed sign-ins count against', () => {
  it('keeps IPv4, and unwraps IPv4-mapped IPv6, so HTTP and sockets share one count', () => {
    expect(throttleKey('203.0.113.7')).toBe('203.0.113.7');
    expect(throttleKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('groups IPv6 by its /64, however it is written', () => {
    const key = '2001:db8:a:b::/64';
    expect(throttleKey('2001:db8:a:b::1')).toBe(key);
    expect(throttleKey('2001:0db8:000a:000b:ffff:1:2:3')).toBe(key);
    expect(throttleKey('2001:db8:a:b:1234::9')).toBe(key);
    expect(throttleKey('2001:db8:a:c::1')).not.toBe(key);
    expect(throttleKey('::1')).toBe('0:0:0:0::/64');
  });

  it('takes the first X-Forwarded-For hop only from a trusted proxy', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.4, 10.0.0.2', true)).toBe('198.51.100.4');
    expect(clientAddress('10.0.0.2', '198.51.100.4', false)).toBe('10.0.0.2');
    expect(clientAddress('10.0.0.2', undefined, true)).toBe('10.0.0.2');
  });
});
