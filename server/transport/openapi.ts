import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { projectVersion } from '../project-root.js';
import { HIDDEN } from './route-docs.js';
import { sameOriginPolicy } from './content-security-policy.js';

export interface RouteRecord {
  method: string;
  url: string;
  /** Has a summary and its answers described, or is marked hidden (files, not API). */
  documented: boolean;
  /** Why not, when it isn't. */
  problem?: string;
}

/**
 * What the docs page may load: its own scripts, styles and images from this hub, nothing from
 * elsewhere. Swagger UI's bundle inserts one fixed inline <style> element as it renders; it is allowed
 * by its hash and nothing else inline is (e2e/docs.spec.ts fails on any violation, e.g. after an upgrade).
 */
const SWAGGER_UI_STYLE_HASH = "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='";
export const DOCS_CSP = sameOriginPolicy([SWAGGER_UI_STYLE_HASH]);

function checkDocumented(route: RouteOptions): RouteRecord {
  const method = Array.isArray(route.method) ? route.method.join(',') : String(route.method);
  const record = { method, url: route.url };
  const schema = route.schema as { hide?: boolean; summary?: string; response?: unknown; params?: unknown } | undefined;
  if (!schema) return { ...record, documented: false, problem: 'no schema' };
  if (schema.hide === true) return { ...record, documented: true };
  if (!schema.summary) return { ...record, documented: false, problem: 'no summary' };
  if (!schema.response) return { ...record, documented: false, problem: 'no response schema' };
  if (route.url.includes(':') && !schema.params) return { ...record, documented: false, problem: 'path parameters without a params schema' };
  return { ...record, documented: true };
}

/**
 * OpenAPI 3.1 at /openapi.json, generated from the routes' zod schemas, and a docs page at /docs
 * served from local files under a strict CSP. Registered before the routes, so it sees each one;
 * every route is recorded in `routes` so a test can insist each is documented.
 */
export async function registerOpenApi(app: FastifyInstance, routes: RouteRecord[]): Promise<void> {
  app.addHook('onRoute', (route) => {
    if (route.method === 'HEAD') return;
    routes.push(checkDocumented(route));
  });
  // Schemas document; the handlers parse input themselves after authenticating (see route-docs.ts).
  app.setValidatorCompiler(() => (data) => ({ value: data }));
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Greenlight hub API',
        version: projectVersion(),
        description:
          'Just-in-time action approval. JSON over HTTP; errors are always `{"error": {"code", "message"}}` with a stable code. ' +
          'Socket.IO runs on the same port (token in `auth.token`) for live events; `protocol/hub-client.ts` wraps it.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Greenlight API token, glt_…' } } },
      tags: [
        { name: 'requests', description: 'ask, decide, wait' },
        { name: 'grants', description: 'verify, redeem, revoke' },
        { name: 'users', description: 'accounts and tokens' },
        { name: 'audit', description: 'the tamper-evident log' },
        { name: 'policy', description: 'what the policy would do with a request' },
        { name: 'delegations', description: 'who decides while an approver is away' },
        { name: 'operations', description: 'health, readiness, metrics, keys' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.get('/openapi.json', { schema: HIDDEN, config: { rateLimit: false } }, async () => app.swagger());
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: DOCS_CSP,
    uiConfig: { deepLinking: false, validatorUrl: null, tryItOutEnabled: false },
    logLevel: 'silent',
  });
}
