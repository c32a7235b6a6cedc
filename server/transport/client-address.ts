import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import ipaddr from 'ipaddr.js';

/**
 * The address failed sign-ins are counted against. IPv4 (and IPv4-mapped IPv6) as it is; other IPv6
 * addresses by their /64, since one host is usually handed a whole /64 and could rotate through it.
 */
export function throttleKey(address: string): string {
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const v6 = parsed as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`;
}

/**
 * Who is on the other end of a connection: with `trustProxy`, the client X-Forwarded-For names, as
 * Fastify reads it for HTTP requests (the same library, the same rule), so HTTP and Socket.IO agree.
 */
export function clientAddress(request: IncomingMessage, trustProxy: boolean): string {
  return proxyAddr(request, () => trustProxy);
}
