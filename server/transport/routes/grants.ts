import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseOrThrow } from '../../../protocol/index.js';
import { redeemGrant, revokeGrant, verifyGrant } from '../../domain/grants.js';
import { requireActor, type HttpDeps } from '../http-app.js';

const jtiParam = z.strictObject({ jti: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a grant id') });

/** Verify and redeem take the grant itself as the credential: target systems need no account. */
export const grantRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.post('/api/v1/grants/verify', async (request) => verifyGrant(deps.ctx, request.body));
  app.post('/api/v1/grants/redeem', async (request) => redeemGrant(deps.ctx, request.body));
  app.post('/api/v1/grants/:jti/revoke', async (request) => {
    const actor = await requireActor(deps, request);
    return revokeGrant(deps.ctx, actor, parseOrThrow(jtiParam, request.params, 'grant id').jti);
  });
};
