import { createServer } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { GreenlightError, LIMITS } from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import type { Actor } from '../domain/actor.js';
import { resolveToken } from '../identity/authenticate.js';
import { requireScope, type ScopeNeed } from '../identity/scopes.js';
import { hashToken } from '../domain/tokens.js';
import type { Metrics } from '../metrics.js';
import { statusOf, toWireError } from './errors.js';
import { clientErrorHandler, mapFrameworkError } from './framework-errors.js';
import { registerAccessLog } from './access-log.js';
import { registerOpenApi, type RouteRecord } from './openapi.js';
import type { Readiness } from '../readiness.js';
import { healthRoutes } from './routes/health.js';
import { userRoutes } from './routes/users.js';
import { requestRoutes } from './routes/requests.js';
import { auditRoutes } from './routes/audit.js';
import { grantRoutes } from './routes/grants.js';
import { reportRoutes } from './routes/reports.js';
import { consoleRoutes } from './routes/console.js';
import { adminRoutes } from './routes/admin.js';
import { notificationRoutes } from './routes/notifications.js';
import { tokenRoutes } from './routes/tokens.js';
import { oidcOffRoutes, oidcRoutes } from './routes/oidc.js';
import type { OidcSignIn } from '../auth/oidc/sign-in.js';
import type { Waiters } from './waiters.js';
import type { FailedAuthentications } from './failed-authentications.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** What the caller's token must hold for this route; every authenticated route declares it. */
    scope?: ScopeNeed;
  }
}

export interface HttpDeps {
  ctx: Context;
  /** Single sign-on, when the hub configuration has an `oidc:` section. */
  oidc?: OidcSignIn | null;
  metrics: Metrics;
  waiters: Waiters;
  rateLimitPerMinute: number;
  failedAuthentications: FailedAuthentications;
  /** Behind a proxy that sets X-Forwarded-For: take the client's address (rate limits, audit) from it. */
  trustProxy: boolean;
  waitPollMs: number | null;
  consoleDir: string | null;
  healthy: () => Promise<boolean>;
  ready: () => Promise<Readiness>;
  /** One info line per request (method, route pattern, status, duration, user). */
  accessLog: boolean;
  /** Filled with every route as it is registered, documented or not. */
  routes?: RouteRecord[];
  /** How long a client may take to send one whole request (headers and body); answered long-polls are not affected. */
  requestTimeoutMs?: number;
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

const tokenHashes = new WeakMap<FastifyRequest, string>();

/** The bearer token's hash, computed once per request: the rate limiter keys on it and authentication looks it up. */
function tokenHashOf(request: FastifyRequest, token: string): string {
  let hash = tokenHashes.get(request);
  if (hash === undefined) {
    hash = hashToken(token);
    tokenHashes.set(request, hash);
  }
  return hash;
}

/** The actor behind the call, or a 401 that says what is wrong; a 403 when their token lacks the route's scope. */
export async function requireActor(deps: HttpDeps, request: FastifyRequest): Promise<Actor> {
  const need = request.routeOptions.config.scope;
  // Fails closed: a route that forgot to say what it needs refuses everyone, and its tests show it.
  if (need === undefined) throw new Error(`route ${request.routeOptions.url ?? request.url} declares no scope`);
  if (request.actor) {
    requireScope(request.actor, need);
    return request.actor;
  }
  const token = bearerToken(request);
  if (!token) throw new GreenlightError('UNAUTHENTICATED', 'Send your token as "Authorization: Bearer glt_…".');
  const outcome = await resolveToken(deps.ctx, token, tokenHashOf(request, token));
  if ('refused' in outcome) {
    const where = `${request.method} ${request.routeOptions.url ?? request.url}`;
    throw await deps.failedAuthentications.refuse(request.ip, where, outcome.refused.reason, outcome.refused.message);
  }
  request.actor = outcome.actor;
  requireScope(outcome.actor, need);
  return outcome.actor;
}

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: LIMITS.bodyBytes,
    // Fastify turns Node's limit off by default: a client trickling a body would hold its connection
    // forever. Node checks the limit on an interval, so that follows the limit too.
    serverFactory: (handler) => {
      const requestTimeout = deps.requestTimeoutMs ?? 30_000;
      return createServer({ requestTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(requestTimeout / 4))) }, handler);
    },
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    trustProxy: deps.trustProxy,
    clientErrorHandler,
    // Errors raised before routing (a malformed URL, an over-long path segment) answer like all others.
    frameworkErrors: (error, _request, reply) => {
      const wire = mapFrameworkError(error) ?? toWireError(error, deps.ctx.log);
      void sendError(reply, statusOf(wire), wire);
    },
  });
  app.decorateRequest('actor', null);

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number; validation?: unknown }, request, reply) => {
    const wire = mapFrameworkError(error) ?? toWireError(error, deps.ctx.log);
    void sendError(reply, statusOf(wire), wire);
  });
  // The path is not repeated back: it may carry what a client should not have sent (a token, say).
  app.setNotFoundHandler((request, reply) => {
    void sendError(reply, 404, { code: 'NOT_FOUND', message: `No such endpoint for ${request.method}; the API is described at /docs and /openapi.json.` });
  });
  app.addHook('onResponse', async (_request, reply) => {
    deps.metrics.httpResponses.inc({ status: String(reply.statusCode) });
  });
  if (deps.accessLog && deps.ctx.log.isLevelEnabled('info')) registerAccessLog(app, deps.ctx.log);
  await registerOpenApi(app, deps.routes ?? []);

  await app.register(rateLimit, {
    global: true,
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    allowList: (request) => request.url === '/healthz' || request.url === '/readyz' || request.url === '/metrics',
    keyGenerator: (request) => {
      const token = bearerToken(request);
      return token ? `t:${tokenHashOf(request, token)}` : `ip:${request.ip}`;
    },
    // The plugin throws what this returns; an Error keeps its message through the error handler above.
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests: at most ${context.max} a minute per token. Retry in ${Math.ceil(context.ttl / 1000)} s.`), { statusCode: 429 }),
  });

  await app.register(healthRoutes, deps);
  await app.register(userRoutes, deps);
  await app.register(requestRoutes, deps);
  await app.register(auditRoutes, deps);
  await app.register(grantRoutes, deps);
  await app.register(reportRoutes, deps);
  await app.register(adminRoutes, deps);
  await app.register(notificationRoutes, deps);
  await app.register(tokenRoutes, deps);
  await (deps.oidc ? app.register(oidcRoutes, { signIn: deps.oidc }) : app.register(oidcOffRoutes));
  if (deps.consoleDir) await app.register(consoleRoutes, { dir: deps.consoleDir });
  return app;
}

function sendError(reply: FastifyReply, status: number, error: { code: string; message: string }) {
  return reply.status(status).type('application/json').send({ error });
}
