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

/** The first hop of X-Forwarded-For, for a hub told to trust the proxy in front of it; otherwise the peer's address. */
export function clientAddress(peer: string, forwardedFor: string | string[] | undefined, trustProxy: boolean): string {
  if (!trustProxy || !forwardedFor) return peer;
  const first = (Array.isArray(forwardedFor) ? forwardedFor[0] : forwardedFor)?.split(',')[0]?.trim();
  return first || peer;
}
