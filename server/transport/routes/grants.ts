import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { grantTokenInputSchema, parseOrThrow, requestSchema, verifyResultSchema } from '../../../protocol/index.js';
import { redeemGrant, revokeGrant, verifyGrant } from '../../domain/grants.js';
import { requireActor, type HttpDeps } from '../http-app.js';
import { routeDoc } from '../route-docs.js';

const jtiParam = z.strictObject({ jti: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a grant id') });

const docs = {
  verify: routeDoc({
    summary: 'Check a grant',
    description: '`valid: false` comes with a reason: `expired`, `revoked`, `redeemed`, `bad_signature` or `unknown`.',
    tag: 'grants',
    auth: 'grant',
    body: grantTokenInputSchema,
    responses: { 200: verifyResultSchema },
  }),
  redeem: routeDoc({
    summary: 'Use a grant, once',
    description: 'Marks it used; a second redeem answers 409 ALREADY_REDEEMED.',
    tag: 'grants',
    auth: 'grant',
    body: grantTokenInputSchema,
    responses: { 200: verifyResultSchema },
    errors: [403, 409],
  }),
  revoke: routeDoc({
    summary: 'Revoke a grant before it expires',
    description: 'For the requester, the request\'s approvers and admins. Answers with the request.',
    tag: 'grants',
    auth: 'token',
    params: jtiParam,
    responses: { 200: requestSchema },
    errors: [403, 404, 409],
  }),
};

/** Verify and redeem take the grant itself as the credential: target systems need no account. */
export const grantRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.post('/api/v1/grants/verify', { schema: docs.verify }, async (request) => verifyGrant(deps.ctx, request.body));
  app.post('/api/v1/grants/redeem', { schema: docs.redeem }, async (request) => redeemGrant(deps.ctx, request.body));
  app.post('/api/v1/grants/:jti/revoke', { schema: docs.revoke, config: { scope: ['requests:create', 'requests:decide'] } }, async (request) => {
    const actor = await requireActor(deps, request);
    return revokeGrant(deps.ctx, actor, parseOrThrow(jtiParam, request.params, 'grant id').jti);
  });
};
