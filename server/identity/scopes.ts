import { GreenlightError, SCOPES, type Role, type Scope } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';

const EVERYONE: readonly Scope[] = ['requests:create', 'requests:read', 'grants:verify', 'grants:redeem'];
const DECIDERS: readonly Role[] = ['approver', 'lead', 'admin'];

/** Every scope a user's role allows; a service user never decides. */
export function scopesAllowed(roles: readonly Role[], service: boolean): Scope[] {
  const allowed = new Set<Scope>(EVERYONE);
  if (!service && roles.some((role) => DECIDERS.includes(role))) allowed.add('requests:decide');
  if (roles.includes('admin')) {
    allowed.add('audit:read');
    allowed.add('admin');
  }
  return SCOPES.filter((scope) => allowed.has(scope));
}

/**
 * A token's scopes as of now: what it was made with, cut down to what the role allows today, so
 * taking a role away also takes it from every token the user made before.
 */
export function effectiveScopes(stored: readonly Scope[] | null, roles: readonly Role[], service: boolean): Scope[] {
  const allowed = scopesAllowed(roles, service);
  return stored === null ? allowed : allowed.filter((scope) => stored.includes(scope));
}

/** What a route or socket event needs: one scope, any of several, or just a valid token. */
export type ScopeNeed = Scope | readonly Scope[] | 'any';

/**
 * Refuses a call whose token was made without a scope its user's role allows, naming the scope.
 * What the role itself forbids is left to the domain, which refuses it in its own words
 * (FORBIDDEN, NOT_ELIGIBLE, SELF_APPROVAL) whatever token is used.
 */
export function requireScope(actor: Actor, need: ScopeNeed): void {
  if (need === 'any') return;
  const anyOf: readonly Scope[] = typeof need === 'string' ? [need] : need;
  if (anyOf.some((scope) => actor.scopes.includes(scope))) return;
  const allowed = scopesAllowed(actor.roles, actor.service);
  if (!anyOf.some((scope) => allowed.includes(scope))) return;
  const named = anyOf.map((scope) => `"${scope}"`).join(' or ');
  throw new GreenlightError('INSUFFICIENT_SCOPE', `This token lacks the ${named} scope it needs here. Use a token that has it (greenlight token create --scope ${anyOf[0]}).`);
}
