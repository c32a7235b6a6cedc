import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { LIMITS, extendInputSchema, grantTokenInputSchema, parseOrThrow, redeemInputSchema, requestSchema, verifyResultSchema } from '../../../protocol/index.js';
import { redeemGrant, revokeGrant, verifyGrant } from '../../domain/grants.js';
import type { HttpDeps } from '../http-deps.js';
import { extendGrant } from '../../domain/extensions.js';
import { routeDoc } from '../route-docs.js';

const jtiParam = z.strictObject({ jti: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a grant id') });

const docs = {
  verify: routeDoc({
    summary: 'Check a grant',
    description: '`valid: false` comes with a reason: `not_yet_valid` (before its start, `grant.notBefore`), `expired`, `revoked`, `redeemed`, `bad_signature`, `malformed` or `unknown`. `grant` is null for the last three: what a token the hub did not issue claims is not repeated as fact.',
    tag: 'grants',
    auth: 'grant',
    body: grantTokenInputSchema,
    responses: { 200: verifyResultSchema },
  }),
  redeem: routeDoc({
    summary: 'Use a grant, once',
    description:
      'Marks it used; a second redeem answers 409 ALREADY_REDEEMED, one before its start 409 NOT_YET_VALID naming the start. A `redemptionKey` (a random value made once per use) makes it safe to retry: the same key again, within the grant\'s span, answers as the first did, with the same `redeemedAt`.',
    tag: 'grants',
    auth: 'grant',
    body: redeemInputSchema,
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
  extend: routeDoc({
    summary: 'Ask for more time on a grant about to end',
    description:
      "For the requester, within the grant's last `extendBefore` (15 minutes by default). Creates a new request linked to the grant (`extends`), through the same rule, for access from the grant's end; the rule's `extensions.autoApprove` first extensions are approved at once. 422 EXTENSION_LIMIT past `extensions.maxTotal`.",
    tag: 'grants',
    auth: 'token',
    params: jtiParam,
    body: extendInputSchema,
    responses: { 201: requestSchema },
    errors: [400, 403, 404, 409, 422],
  }),
};

/** Verify and redeem take the grant itself as the credential: target systems need no account. */
export const grantCredentialRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  // Anyone may call these, so their bodies are kept small.
  app.post('/api/v1/grants/verify', { schema: docs.verify, bodyLimit: LIMITS.grantBodyBytes }, async (request) => verifyGrant(deps.ctx, request.body));
  app.post('/api/v1/grants/redeem', { schema: docs.redeem, bodyLimit: LIMITS.grantBodyBytes }, async (request) => redeemGrant(deps.ctx, request.body));
};

/** Revoking takes a user's token (registered in the authenticated scope). */
export const grantRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.post('/api/v1/grants/:jti/revoke', { schema: docs.revoke, config: { scope: ['requests:create', 'requests:decide'] } }, async (request) => revokeGrant(deps.ctx, request.actor, parseOrThrow(jtiParam, request.params, 'grant id').jti));
  app.post('/api/v1/grants/:jti/extend', { schema: docs.extend, config: { scope: 'requests:create' } }, async (request, reply) => {
    const extension = await extendGrant(deps.ctx, request.actor, parseOrThrow(jtiParam, request.params, 'grant id').jti, request.body);
    return reply.code(201).send(extension);
  });
};
