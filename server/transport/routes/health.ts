import type { FastifyPluginAsync } from 'fastify';
import type { HttpDeps } from '../http-app.js';

export const healthRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.get('/healthz', { config: { rateLimit: false } }, async (_request, reply) => {
    if (await deps.healthy()) return { status: 'ok' };
    return reply.status(503).send({ status: 'unavailable', error: { code: 'UNAVAILABLE', message: 'The hub cannot reach its database.' } });
  });
  app.get('/metrics', { config: { rateLimit: false } }, async (_request, reply) => {
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  app.get('/.well-known/jwks.json', async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return { keys: [deps.ctx.keys.publicJwk] };
  });
};
