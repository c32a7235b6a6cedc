import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { wireErrorSchema } from '../../../protocol/index.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';
import type { KeyObject } from 'node:crypto';
import { checkpointKeyId } from '../../domain/checkpoints.js';
import { READINESS_WARNING_KINDS } from '../../readiness.js';

const check = z.enum(['ok', 'failing', 'skipped']);
const readinessSchema = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.object({ database: check, migrations: check, scheduler: check, auditCheckpoints: check }),
  error: wireErrorSchema.optional(),
  /** Ready, but refusing to sign audit checkpoints (the database's chain id is not the one this hub signed), or unable to tell (its log held none of its checkpoints at start). */
  warning: z.object({ kind: z.enum(READINESS_WARNING_KINDS), message: z.string() }).optional(),
});
const healthSchema = z.object({ status: z.enum(['ok', 'unavailable']), error: wireErrorSchema.optional() });
const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });
const publishedKeySchema = z.object({ keyId: z.string(), publicKeyPem: z.string() });
const checkpointKeySchema = publishedKeySchema.extend({
  alg: z.literal('Ed25519'),
  /** Keys the current one replaced (`--retired-checkpoint-keys`), each with the last event it may vouch for. */
  retired: z.array(publishedKeySchema.extend({ untilSeq: z.number().int() })),
});

export const healthRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.get(
    '/healthz',
    {
      config: { rateLimit: false },
      schema: routeDoc({
        summary: 'Liveness: the process answers and reaches its database',
        tag: 'operations',
        auth: 'none',
        responses: { 200: healthSchema, 503: healthSchema },
      }),
    },
    async (_request, reply) => {
      if (await deps.healthy()) return { status: 'ok' };
      return reply.status(503).send({ status: 'unavailable', error: { code: 'UNAVAILABLE', message: 'The hub cannot reach its database.' } });
    },
  );

  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: routeDoc({
        summary: 'Readiness: database reachable, migrations current, scheduler running',
        description: 'For load balancers and orchestrators: take the hub out of rotation while this answers 503; `error.message` says why.',
        tag: 'operations',
        auth: 'none',
        responses: { 200: readinessSchema, 503: readinessSchema },
      }),
    },
    async (_request, reply) => {
      const readiness = await deps.ready();
      if (readiness.ready) return { status: 'ready', checks: readiness.checks, ...(readiness.warning ? { warning: readiness.warning } : {}) };
      return reply.status(503).send({ status: 'unavailable', checks: readiness.checks, error: { code: 'UNAVAILABLE', message: readiness.reason ?? 'The hub is not ready.' } });
    },
  );

  app.get(
    '/metrics',
    {
      config: { rateLimit: false },
      schema: routeDoc({
        summary: 'Prometheus metrics',
        tag: 'operations',
        auth: 'none',
        responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
      }),
    },
    async (_request, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      schema: routeDoc({
        summary: 'The public key grants are signed with (Ed25519, JWK set)',
        description: 'Target systems verify grants offline with it.',
        tag: 'operations',
        auth: 'none',
        responses: { 200: jwksSchema },
      }),
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return { keys: await deps.ctx.keys.publishedJwks(deps.ctx.clock.now()) };
    },
  );

  app.get(
    '/.well-known/greenlight-checkpoint-key',
    {
      schema: routeDoc({
        summary: 'The public key audit checkpoints are signed with (Ed25519, SPKI PEM), and those it replaced',
        description: '`greenlight audit verify` checks checkpoint signatures with them; keep a copy where the hub\'s database can\'t change it.',
        tag: 'operations',
        auth: 'none',
        responses: { 200: checkpointKeySchema },
      }),
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
      return {
        alg: 'Ed25519' as const,
        keyId: deps.checkpoints.keyId,
        publicKeyPem: pem(deps.checkpoints.publicKey),
        retired: deps.checkpoints.retired.map(({ key, untilSeq }) => ({ keyId: checkpointKeyId(key), publicKeyPem: pem(key), untilSeq: untilSeq ?? 0 })),
      };
    },
  );
};
