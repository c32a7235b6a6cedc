import type { GrantTokenSeal } from '../keys/grant-token-seal.js';
import type { RequestEvent } from '../domain/bus.js';

/** The event with its requester's grant token replaced by `replace`'s answer, or left out when that is null. */
function withGrantToken<E extends RequestEvent>(event: E, replace: (grant: { jti: string; requestId: string }, token: string) => string | null): E {
  const grant = event.request.grant;
  if (!grant?.token) return event;
  const { token, ...rest } = grant;
  const replaced = replace({ jti: grant.jti, requestId: event.request.id }, token);
  return { ...event, request: { ...event.request, grant: replaced === null ? rest : { ...rest, token: replaced } } };
}

/**
 * What crosses to the other hubs goes through PostgreSQL (NOTIFY, and the adapter's attachment
 * table for long messages), where anyone who can connect may listen: a grant token goes sealed.
 */
export const sealedForPeers = <E extends RequestEvent>(event: E, seal: Pick<GrantTokenSeal, 'seal'>): E => withGrantToken(event, (grant, token) => seal.seal(grant, token));

/** The event as another hub sent it, its grant token opened (left out if it does not open). */
export const openedFromPeer = <E extends RequestEvent>(event: E, seal: Pick<GrantTokenSeal, 'open'>): E => withGrantToken(event, (grant, token) => seal.open(grant, token));
