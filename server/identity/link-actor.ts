import type { Actor } from '../domain/actor.js';
import type { UserRecord } from '../store/users.js';
import { scopesAllowed } from './scopes.js';

/**
 * A user acting through something the hub sent them (an email link, a Slack button) rather than a
 * token: whatever their role allows, and no token whose use is recorded.
 */
export function actorWithoutToken(user: UserRecord, groups: string[]): Actor {
  return {
    id: user.id,
    name: user.name,
    roles: user.roles,
    groups,
    email: user.email,
    service: user.service,
    scopes: scopesAllowed(user.roles, user.service),
    tokenId: null,
    tokenKind: null,
  };
}
