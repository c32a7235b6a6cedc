import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GreenlightError } from '../../protocol/index.js';
import type { Actor } from '../domain/actor.js';
import { hashToken } from '../domain/tokens.js';
import { resolveToken } from '../identity/authenticate.js';
import { requireScope, type ScopeNeed } from '../identity/scopes.js';
import type { FailedAuthentications } from './failed-authentications.js';
import type { Context } from '../domain/context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling: set by the authentication hook on every route of the authenticated scope. */
    readonly actor: Actor;
  }
  interface FastifyContextConfig {
    /** What the caller's token must hold for this route; every authenticated route declares it. */
    scope?: ScopeNeed;
  }
}

const actors = new WeakMap<FastifyRequest, Actor>();
const tokenHashes = new WeakMap<FastifyRequest, string>();

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

/** The bearer token's hash, computed once per request: the rate limiter keys on it and authentication looks it up. */
export function tokenHashOf(request: FastifyRequest, token: string): string {
  let hash = tokenHashes.get(request);
  if (hash === undefined) {
    hash = hashToken(token);
    tokenHashes.set(request, hash);
  }
  return hash;
}

/** The caller where the request was authenticated, else null (public routes, refused calls): for logging. */
export const actorIfAuthenticated = (request: FastifyRequest): Actor | null => actors.get(request) ?? null;

/**
 * Makes `request.actor` readable. Reading it on a public route is a wiring mistake, not a caller's:
 * it fails loudly rather than handing a route a missing user.
 */
export function decorateActor(app: FastifyInstance): void {
  app.decorateRequest('actor', {
    getter(this: FastifyRequest): Actor {
      const actor = actors.get(this);
      if (!actor) throw new GreenlightError('INTERNAL', 'This route read its caller without being in the authenticated scope.');
      return actor;
    },
  });
}

export interface AuthenticationDeps {
  ctx: Context;
  failedAuthentications: FailedAuthentications;
}

/**
 * Authenticates every route registered in `scope` before anything else of the request is handled:
 * a call without a valid token (unknown, revoked, expired, its user disabled) is answered 401 before
 * its body is read or parsed, and one whose token lacks the route's scope 403.
 */
export function requireAuthentication(scope: FastifyInstance, deps: AuthenticationDeps): void {
  scope.addHook('onRequest', async (request) => {
    const need = request.routeOptions.config.scope;
    // Fails closed: a route that forgot to say what it needs refuses everyone, and its tests show it.
    if (need === undefined) throw new Error(`route ${request.routeOptions.url ?? request.url} declares no scope`);
    const where = `${request.method} ${request.routeOptions.url ?? request.url}`;
    const token = bearerToken(request);
    if (!token) {
      const message = 'Send your token as "Authorization: Bearer glt_…".';
      // No header at all is someone who forgot it; a header that is not a bearer token is a credential
      // the hub refused (Basic, a bare token, "Bearer" alone), audited like a wrong token.
      if (request.headers.authorization === undefined) throw new GreenlightError('UNAUTHENTICATED', message);
      throw await deps.failedAuthentications.refuse(request.ip, where, 'malformed Authorization header (not "Bearer <token>")', message);
    }
    const outcome = await resolveToken(deps.ctx, token, tokenHashOf(request, token));
    if ('refused' in outcome) throw await deps.failedAuthentications.refuse(request.ip, where, outcome.refused.reason, outcome.refused.message);
    actors.set(request, outcome.actor);
    requireScope(outcome.actor, need);
  });
}
