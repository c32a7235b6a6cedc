import { createServer } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { GreenlightError, LIMITS } from '../../protocol/index.js';
import { statusOf, toWireError } from './errors.js';
import { clientErrorHandler, jsonProblem, mapFrameworkError } from './framework-errors.js';
import { registerAccessLog } from './access-log.js';
import { registerOpenApi } from './openapi.js';
import { bearerToken, decorateActor, requireAuthentication, tokenHashOf } from './authentication.js';
import type { HttpDeps } from './http-deps.js';
import { jsonNestsDeeperThan } from './json-depth.js';
import { slackActionRoutes } from './routes/slack-actions.js';
import { healthRoutes } from './routes/health.js';
import { userRoutes } from './routes/users.js';
import { requestRoutes } from './routes/requests.js';
import { auditRoutes } from './routes/audit.js';
import { grantCredentialRoutes, grantRoutes } from './routes/grants.js';
import { reportRoutes } from './routes/reports.js';
import { consoleRoutes } from './routes/console.js';
import { adminRoutes } from './routes/admin.js';
import { notificationRoutes } from './routes/notifications.js';
import { emailActionRoutes } from './routes/email-actions.js';
import { policyRoutes } from './routes/policy.js';
import { delegationRoutes } from './routes/delegations.js';
import { tokenRoutes } from './routes/tokens.js';
import { oidcOffRoutes, oidcRoutes } from './routes/oidc.js';

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
  decorateActor(app);
  limitJsonDepth(app);

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number; validation?: unknown }, request, reply) => {
    const wire = mapFrameworkError(error, request.routeOptions.bodyLimit) ?? toWireError(error, deps.ctx.log);
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

  // Public: probes, the signing key, grants (the grant is the credential), the console and its docs.
  await app.register(healthRoutes, deps);
  await app.register(grantCredentialRoutes, deps);
  // The link in an email is the credential: its pages check the token themselves.
  await app.register(emailActionRoutes, deps);
  // Slack signs its calls: the route checks the signature itself.
  await app.register(slackActionRoutes, deps);
  // Everything else answers only a known token, checked before the body is read.
  await app.register(async (scope) => {
    // The limiter's own hook sits on each route, which runs after this scope's: it goes first here
    // (it then skips itself), so a flood is held back before it costs a token lookup. A route that
    // needs a limit of its own (`config.rateLimit`) would get the global one here: give it its own scope.
    scope.addHook('onRequest', scope.rateLimit());
    requireAuthentication(scope, deps);
    await scope.register(userRoutes, deps);
    await scope.register(requestRoutes, deps);
    await scope.register(auditRoutes, deps);
    await scope.register(grantRoutes, deps);
    await scope.register(reportRoutes, deps);
    await scope.register(adminRoutes, deps);
    await scope.register(notificationRoutes, deps);
    await scope.register(policyRoutes, deps);
    await scope.register(delegationRoutes, deps);
    await scope.register(tokenRoutes, deps);
  });
  // Single sign-on ends in a session token: its pages are where a caller without one starts.
  await (deps.oidc ? app.register(oidcRoutes, { signIn: deps.oidc }) : app.register(oidcOffRoutes));
  if (deps.consoleDir) await app.register(consoleRoutes, { dir: deps.consoleDir });
  return app;
}

/**
 * Every JSON body, on every route: refused before parsing when it nests deeper than any request needs.
 * Fastify's own parser (with its prototype-poisoning checks) does the rest; each route's body limit
 * still applies, as the body is read before this runs.
 */
function limitJsonDepth(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(new GreenlightError('INVALID_INPUT', 'The body is empty, but Content-Type says JSON: send a JSON object, or no Content-Type.'), undefined);
      return;
    }
    if (jsonNestsDeeperThan(text, LIMITS.jsonDepth)) {
      done(new GreenlightError('JSON_TOO_DEEP', `The body nests arrays and objects more than ${LIMITS.jsonDepth} deep; no request needs that many.`), undefined);
      return;
    }
    parseJson(request, text, (error, parsed) => {
      if (!error) return done(null, parsed);
      // Fastify's error says only "not valid JSON": V8's says where, and text V8 reads was refused
      // for a key that could reach Object.prototype.
      try {
        JSON.parse(text);
      } catch (syntax) {
        // Said as the body's problem here: a SyntaxError from anywhere else is the hub's own fault.
        return done(new GreenlightError('INVALID_INPUT', jsonProblem(syntax as SyntaxError)), undefined);
      }
      done(new GreenlightError('INVALID_INPUT', 'The body has a "__proto__" or "constructor.prototype" key, which the hub never accepts: remove it.'), undefined);
    });
  });
}

function sendError(reply: FastifyReply, status: number, error: { code: string; message: string }) {
  return reply.status(status).type('application/json').send({ error });
}
