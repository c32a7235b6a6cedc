import type { Role, Scope, TokenKind } from '../../protocol/index.js';

/** The authenticated user behind a call, and what the token they used may do. */
export interface Actor {
  id: string;
  name: string;
  roles: Role[];
  groups: string[];
  email: string | null;
  /** A machine account: tokens only, never an approver. */
  service: boolean;
  /** The scopes of the token behind this call: never more than `roles` allow. */
  scopes: Scope[];
  /** The token behind the call; null where the user acts through an email link or a Slack button. */
  tokenId: string | null;
  tokenKind: TokenKind | null;
  /** When that token stops working; absent where it never does or there is none. */
  tokenExpiresAt?: string;
}

export const hasRole = (actor: Pick<Actor, 'roles'>, role: Role): boolean => actor.roles.includes(role);
export const isAdmin = (actor: Pick<Actor, 'roles'>): boolean => hasRole(actor, 'admin');
/**
 * An admin acting on what is not theirs (someone else's grant, delegation, claim, token or request):
 * the role and a token that carries the admin scope. An admin's narrower token acts as a plain user.
 */
export const actsAsAdmin = (actor: Pick<Actor, 'roles' | 'scopes'>): boolean => isAdmin(actor) && actor.scopes.includes('admin');

/** The hub itself, for events no person caused (timers, policy reloads). */
export const SYSTEM_ACTOR_NAME = 'greenlight';
