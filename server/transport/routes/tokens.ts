import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { createdTokenSchema, newTokenSchema, parseOrThrow, tokenIdSchema, tokenListSchema, tokenSchema, userNameSchema } from '../../../protocol/index.js';
import { createToken, listTokens, revokeToken } from '../../identity/api-tokens.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const idParam = z.strictObject({ id: tokenIdSchema });
const listQuery = z.strictObject({ user: userNameSchema.optional() });

const docs = {
  create: routeDoc({
    summary: 'Make a named, scoped, expiring token',
    description:
      'For yourself, or (admins) for a service user named in `user`. `expiresIn` is a duration such as `90d` (at most `365d`). The scopes can be no more than the role allows, nor more than the token making it holds. The token is in this answer only. Audited.',
    tag: 'tokens',
    auth: 'token',
    body: newTokenSchema,
    responses: { 201: createdTokenSchema },
    errors: [403, 404],
  }),
  list: routeDoc({
    summary: 'Your tokens (an admin may ask for a user’s with `?user=`)',
    description: 'Never the tokens themselves: name, kind, scopes, expiry and when each was last used (to the minute).',
    tag: 'tokens',
    auth: 'token',
    querystring: listQuery,
    responses: { 200: tokenListSchema },
    errors: [403, 404],
  }),
  revoke: routeDoc({
    summary: 'Revoke a token',
    description: 'It stops working at once, and sockets that used it are closed. Yours, or any (admins). Audited.',
    tag: 'tokens',
    auth: 'token',
    params: idParam,
    responses: { 200: tokenSchema },
    errors: [404],
  }),
};

export const tokenRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.post('/api/v1/tokens', { schema: docs.create, config: { scope: 'any' } }, async (request, reply) => {
    return reply.status(201).send(await createToken(deps.ctx, request.actor, request.body));
  });
  app.get('/api/v1/tokens', { schema: docs.list, config: { scope: 'any' } }, async (request) => {
    const { user } = parseOrThrow(listQuery, request.query, 'token listing');
    return { tokens: await listTokens(deps.ctx, request.actor, user) };
  });
  app.delete('/api/v1/tokens/:id', { schema: docs.revoke, config: { scope: 'any' } }, async (request) => {
    const { id } = parseOrThrow(idParam, request.params, 'token');
    return revokeToken(deps.ctx, request.actor, id);
  });
};
