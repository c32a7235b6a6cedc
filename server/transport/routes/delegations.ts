import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { delegationIdSchema, delegationListSchema, delegationSchema, newDelegationSchema, parseOrThrow } from '../../../protocol/index.js';
import { createDelegation, endDelegation, listDelegations } from '../../domain/delegations.js';
import { refreshDelegates } from '../../domain/offboarding.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const idParam = z.strictObject({ id: delegationIdSchema });

const docs = {
  create: routeDoc({
    summary: 'Delegate my approvals while I am away',
    description:
      'To one user for a window (`endsAt` at most 30 days ahead), for every rule or only `rules`. The delegate decides on the delegator\'s behalf; ' +
      'delegations are not passed on. An admin may delegate for anyone with `from`.',
    tag: 'delegations',
    auth: 'token',
    body: newDelegationSchema,
    responses: { 201: delegationSchema },
    errors: [403],
  }),
  list: routeDoc({ summary: 'Delegations from or to me (admins: all), newest first', tag: 'delegations', auth: 'token', responses: { 200: delegationListSchema } }),
  end: routeDoc({ summary: 'End a delegation now', description: 'Its delegator, its delegate or an admin may.', tag: 'delegations', auth: 'token', params: idParam, responses: { 200: delegationSchema }, errors: [404] }),
};

export const delegationRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  const { ctx } = deps;
  app.post('/api/v1/delegations', { schema: docs.create, config: { scope: 'requests:decide' } }, async (request, reply) => {
    const actor = request.actor;
    const created = await createDelegation(ctx, actor, request.body);
    await refreshDelegates(ctx);
    return reply.code(201).send(created);
  });
  app.get('/api/v1/delegations', { schema: docs.list, config: { scope: ['requests:read', 'requests:decide'] } }, async (request) => ({ delegations: await listDelegations(ctx, request.actor) }));
  app.delete('/api/v1/delegations/:id', { schema: docs.end, config: { scope: 'requests:decide' } }, async (request) => {
    const actor = request.actor;
    const ended = await endDelegation(ctx, actor, parseOrThrow(idParam, request.params, 'delegation id').id);
    await refreshDelegates(ctx);
    return ended;
  });
};
