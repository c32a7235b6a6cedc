import type { FastifyPluginAsync } from 'fastify';
import { explainQuerySchema, GreenlightError, parseOrThrow, policyExplanationSchema } from '../../../protocol/index.js';
import { actsAsAdmin } from '../../domain/actor.js';
import { explainPolicy, withMembers } from '../../domain/policy-explain.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const explainDoc = routeDoc({
  summary: 'What the policy would do with a request, before it is made',
  description:
    'The rule that matches, who can approve and how many per group, the escalation timeline with clock times, expiry and grant TTL; ' +
    'when no rule matches, why for each rule. `as` (admins only) answers as another requester would be answered.',
  tag: 'policy',
  auth: 'token',
  querystring: explainQuerySchema,
  responses: { 200: policyExplanationSchema },
  errors: [403],
});

export const policyRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  const { ctx } = deps;
  app.get('/api/v1/policy/explain', { schema: explainDoc, config: { scope: ['requests:create', 'requests:read'] } }, async (request) => {
    const actor = request.actor;
    const query = parseOrThrow(explainQuerySchema, request.query, 'policy question');
    if (query.as && query.as !== actor.name && !actsAsAdmin(actor)) throw new GreenlightError('FORBIDDEN', 'Only an admin can ask on behalf of someone else; leave out "as" to ask for yourself.');
    const policy = ctx.policy.current();
    return withMembers(ctx.store.db, policy, explainPolicy(policy, query, ctx.clock.now()), query.as ?? actor.name);
  });
};
