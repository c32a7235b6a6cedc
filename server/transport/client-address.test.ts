import type { IncomingMessage } from 'node:http';
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

  it('takes the client X-Forwarded-For names only from a trusted proxy', () => {
    // The two fields proxy-addr reads of a request.
    const through = (forwardedFor?: string) => ({ socket: { remoteAddress: '10.0.0.2' }, headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} }) as unknown as IncomingMessage;
    expect(clientAddress(through('198.51.100.4, 10.0.0.3'), true)).toBe('198.51.100.4');
    expect(clientAddress(through('198.51.100.4'), false)).toBe('10.0.0.2');
    expect(clientAddress(through(), true)).toBe('10.0.0.2');
  });
});
