import type { Role } from '../../protocol/index.js';

/** The authenticated user behind a call. */
export interface Actor {
  id: string;
  name: string;
  roles: Role[];
  groups: string[];
  email: string | null;
}

export const hasRole = (actor: Actor, role: Role): boolean => actor.roles.includes(role);
export const isAdmin = (actor: Actor): boolean => hasRole(actor, 'admin');

/** The hub itself, for events no person caused (timers, policy reloads). */
export const SYSTEM_ACTOR_NAME = 'greenlight';
