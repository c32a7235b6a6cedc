import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { GreenlightError, LIMITS } from '../../protocol/index.js';
import type { Context } from '../domain/context.js';
import type { Actor } from '../domain/actor.js';
import { authenticate } from '../domain/users.js';
import { hashToken } from '../domain/tokens.js';
import type { Metrics } from '../metrics.js';
import { statusOf, toWireError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { userRoutes } from './routes/users.js';
import { requestRoutes } from './routes/requests.js';
import { auditRoutes } from './routes/audit.js';
import { grantRoutes } from './routes/grants.js';
import { consoleRoutes } from './routes/console.js';
import { notificationRoutes } from './routes/notifications.js';
import type { Waiters } from './waiters.js';
import type { FailedAuthentications } from './failed-authentications.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
  }
}

export interface HttpDeps {
  ctx: Context;
  metrics: Metrics;
  waiters: Waiters;
  rateLimitPerMinute: number;
  failedAuthentications: FailedAuthentications;
  /** Behind a proxy that sets X-Forwarded-For: take the client's address (rate limits, audit) from it. */
  trustProxy: boolean;
  waitPollMs: number | null;
  consoleDir: string | null;
  healthy: () => Promise<boolean>;
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

/** The actor behind the call, or a 401 that says what is wrong. */
export async function requireActor(deps: HttpDeps, request: FastifyRequest): Promise<Actor> {
  if (request.actor) return request.actor;
  const token = bearerToken(request);
  if (!token) throw new GreenlightError('UNAUTHENTICATED', 'Send your token as "Authorization: Bearer glt_…".');
  const actor = await authenticate(deps.ctx, token, tokenHashOf(request, token));
  if (!actor) {
    const where = `${request.method} ${request.routeOptions.url ?? request.url}`;
    throw await deps.failedAuthentications.refuse(request.ip, where, 'unknown or disabled token', 'This token is not valid (unknown, or its user was disabled). Ask an admin for a new one.');
  }
  request.actor = actor;
  return actor;
}

export async function buildHttpApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: LIMITS.bodyBytes, logger: false, return503OnClosing: true, forceCloseConnections: 'idle', trustProxy: deps.trustProxy });
  app.decorateRequest('actor', null);

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number; validation?: unknown }, request, reply) => {
    const wire = mapFrameworkError(error) ?? toWireError(error, deps.ctx.log);
    void sendError(reply, statusOf(wire), wire);
  });
  app.setNotFoundHandler((request, reply) => {
    void sendError(reply, 404, { code: 'NOT_FOUND', message: `No such endpoint: ${request.method} ${request.url.split('?')[0]}.` });
  });
  app.addHook('onResponse', async (_request, reply) => {
    deps.metrics.httpResponses.inc({ status: String(reply.statusCode) });
  });

  await app.register(rateLimit, {
    global: true,
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    allowList: (request) => request.url === '/healthz' || request.url === '/metrics',
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
  await app.register(notificationRoutes, deps);
  if (deps.consoleDir) await app.register(consoleRoutes, { dir: deps.consoleDir });
  return app;
}

function sendError(reply: FastifyReply, status: number, error: { code: string; message: string }) {
  return reply.status(status).type('application/json').send({ error });
}

function mapFrameworkError(error: Error & { code?: string; statusCode?: number }): { code: 'PAYLOAD_TOO_LARGE' | 'INVALID_INPUT' | 'RATE_LIMITED'; message: string } | null {
  if (error instanceof GreenlightError) return null;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than ${LIMITS.bodyBytes / 1024 / 1024} MB. Diffs may be up to ${LIMITS.diffBytes / 1024 / 1024} MB and logs up to ${LIMITS.logsBytes / 1024 / 1024} MB; link to anything larger.` };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'INVALID_INPUT', message: `The body is not valid JSON: ${error.message}` };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'INVALID_INPUT', message: 'Send the body as JSON with "Content-Type: application/json".' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'INVALID_INPUT', message: 'The Content-Length header does not match the body.' };
    default:
      break;
  }
  if (error.statusCode === 429) return { code: 'RATE_LIMITED', message: error.message };
  if (error instanceof SyntaxError) return { code: 'INVALID_INPUT', message: `The body is not valid JSON: ${error.message}` };
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return { code: 'INVALID_INPUT', message: error.message };
  return null;
}
