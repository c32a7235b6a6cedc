import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * SSRF guard for outgoing notifications. A configured URL is only a name: what it resolves to is
 * checked when the connection is made (a name that resolved to a public address at start may point
 * inside later), so the HTTP request is given this lookup and connects only to what it passed.
 */

export class RefusedAddress extends Error {
  readonly code = 'EREFUSED_ADDRESS';
}

/** Only global unicast addresses: no loopback, private, link-local, unique-local, CGNAT, reserved or multicast. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export function refusal(address: string, host: string): RefusedAddress {
  const range = ipaddr.isValid(address) ? ipaddr.process(address).range() : 'invalid';
  return new RefusedAddress(`${host} resolves to ${address} (${range}), which notifications may not reach; set notifiers.allowPrivateNetworks: true to allow it`);
}

/** An IP literal in a URL is never looked up, so it is checked here before connecting. */
export function checkLiteralHost(hostname: string, allowPrivate: boolean): RefusedAddress | null {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (allowPrivate || isIP(bare) === 0 || isPublicAddress(bare)) return null;
  return refusal(bare, hostname);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for node:net that fails the connection when any resolved address is not public. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = allowPrivate ? undefined : addresses.find((entry) => !isPublicAddress(entry.address));
      if (refused) return callback(refusal(refused.address, hostname), []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
