import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { decisionInputSchema, LIMITS, queryNumber, newRequestSchema, parseOrThrow, REQUEST_STATUSES, requestIdSchema, requestSchema, reviewInputSchema, type GreenlightRequest } from '../../../protocol/index.js';
import { cancelRequest, decideRequest, getRequest, listRequests } from '../../domain/requests.js';
import { submitRequest } from '../../domain/submit.js';
import { claimRequest, releaseRequest } from '../../domain/lifecycle/claims.js';
import { withoutSecrets } from '../../domain/request-view.js';
import type { HttpDeps } from '../http-deps.js';
import { reviewBreakGlass } from '../../domain/break-glass.js';
import type { Actor } from '../../domain/actor.js';
import { routeDoc } from '../route-docs.js';

const idParam = z.strictObject({ id: requestIdSchema });
const listQuery = z.strictObject({
  status: z.enum(REQUEST_STATUSES).optional(),
  mine: z.enum(['true', 'false']).optional(),
  limit: queryNumber(z.number().int().min(1).max(LIMITS.pageSize).default(50)),
  // A page's nextCursor is the id of its last request: anything else would silently find nothing.
  cursor: z.string().regex(/^req_[0-9a-z]{9,40}$/, 'not a cursor from this list: pass the nextCursor of the page before, or leave it out for the first page').optional(),
});
const waitQuery = z.strictObject({ timeoutSeconds: queryNumber(z.number().min(0).max(300).default(30)) });
const pageSchema = z.object({ requests: z.array(requestSchema), nextCursor: z.string().nullable() });

/** A call on one request: its id in the path, the request as it now stands in the answer. */
const onOne = (summary: string, description: string, errors: number[], body?: z.ZodType) =>
  routeDoc({ summary, description, tag: 'requests', auth: 'token', params: idParam, ...(body ? { body } : {}), responses: { 200: requestSchema }, errors });

const docs = {
  submit: routeDoc({
    summary: 'Ask for approval',
    description:
      'Evaluates the policy and notifies the eligible approvers. 201 with the new request (`pending`, or `approved` under `autoApprove`); ' +
      '200 with the earlier request when its `idempotencyKey` was seen before.',
    tag: 'requests',
    auth: 'token',
    body: newRequestSchema,
    responses: { 201: requestSchema, 200: requestSchema },
    errors: [413, 422],
  }),
  list: routeDoc({ summary: 'List the requests the caller may see, newest first', tag: 'requests', auth: 'token', querystring: listQuery, responses: { 200: pageSchema } }),
  get: onOne('One request with its decisions and timeline', 'The requester also gets the grant.', [403, 404]),
  wait: routeDoc({
    summary: 'Long-poll until the request is decided',
    description: 'Answers as soon as the request leaves `pending`, or after `timeoutSeconds` (at most 300) with it still pending.',
    tag: 'requests',
    auth: 'token',
    params: idParam,
    querystring: waitQuery,
    responses: { 200: requestSchema },
    errors: [403, 404],
  }),
  decide: onOne('Approve or deny', "For eligible approvers: a single deny denies; approvals count toward the rule's quorum.", [403, 404, 409], decisionInputSchema),
  cancel: onOne('Cancel a pending request', 'Its requester may; an admin may cancel anyone\'s, with a `reason` the requester is told.', [400, 403, 404, 409]),
  review: onOne('Review a break-glass use', 'One of the rule\'s break-glass reviewers closes it as `ratified` or `unratified`, with a comment; or a delegate of one, for them (`onBehalfOf` names whom, recorded with the review).', [403, 404, 409], reviewInputSchema),
  claim: onOne("Claim: I'm looking at it", "Holds escalation for the rule's `claimHolds`.", [403, 404, 409]),
  release: onOne('Release a claim', 'Escalation resumes.', [403, 404, 409]),
};

export const requestRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  const { ctx } = deps;

  app.post('/api/v1/requests', { schema: docs.submit, config: { scope: 'requests:create' } }, async (request, reply) => {
    const { actor } = request;
    const result = await submitRequest(ctx, actor, request.body);
    if (result.created) deps.metrics.requestsSubmitted.inc({ status: result.request.status });
    return reply.status(result.created ? 201 : 200).send(result.request);
  });

  app.get('/api/v1/requests', { schema: docs.list, config: { scope: 'requests:read' } }, async (request) => {
    const { actor } = request;
    const query = parseOrThrow(listQuery, request.query, 'query');
    return listRequests(ctx, actor, { status: query.status, mine: query.mine === 'true', limit: query.limit, cursor: query.cursor });
  });

  // A pipeline token made to submit (requests:create) follows its own requests to their outcome.
  app.get('/api/v1/requests/:id', { schema: docs.get, config: { scope: ['requests:read', 'requests:create'] } }, async (request) => {
    const { actor } = request;
    return getRequest(ctx, actor, parseOrThrow(idParam, request.params, 'request id').id);
  });

  app.get('/api/v1/requests/:id/wait', { schema: docs.wait, config: { scope: ['requests:read', 'requests:create'] } }, async (request) => {
    const { actor } = request;
    const { id } = parseOrThrow(idParam, request.params, 'request id');
    const { timeoutSeconds } = parseOrThrow(waitQuery, request.query, 'query');
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    deps.metrics.longPolls.inc();
    try {
      return await waitUntilDecided(deps, actor, id, timeoutSeconds * 1000, abort);
    } finally {
      deps.metrics.longPolls.dec();
    }
  });

  app.post('/api/v1/requests/:id/decisions', { schema: docs.decide, config: { scope: 'requests:decide' } }, async (request) => {
    const { actor } = request;
    const result = await decideRequest(ctx, actor, parseOrThrow(idParam, request.params, 'request id').id, request.body);
    deps.metrics.decisions.inc({ decision: (request.body as { decision?: string }).decision === 'deny' ? 'deny' : 'approve' });
    return result;
  });

  app.post('/api/v1/requests/:id/cancel', { schema: docs.cancel, config: { scope: 'requests:create' } }, async (request) => {
    const { actor } = request;
    return cancelRequest(ctx, actor, parseOrThrow(idParam, request.params, 'request id').id, request.body ?? {});
  });

  app.post('/api/v1/requests/:id/review', { schema: docs.review, config: { scope: 'requests:decide' } }, async (request) => {
    const { actor } = request;
    return reviewBreakGlass(ctx, actor, parseOrThrow(idParam, request.params, 'request id').id, request.body);
  });

  app.post('/api/v1/requests/:id/claim', { schema: docs.claim, config: { scope: 'requests:decide' } }, async (request) => {
    const { actor } = request;
    return claimRequest(ctx, actor, parseOrThrow(idParam, request.params, 'request id').id);
  });

  app.post('/api/v1/requests/:id/release', { schema: docs.release, config: { scope: 'requests:decide' } }, async (request) => {
    const { actor } = request;
    return releaseRequest(ctx, actor, parseOrThrow(idParam, request.params, 'request id').id);
  });
};

/** Answers as soon as the request leaves `pending`, when time is up, the client left, or the hub is closing. */
async function waitUntilDecided(deps: HttpDeps, actor: Actor, id: string, timeoutMs: number, abort: AbortController): Promise<GreenlightRequest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Subscribe before reading, so a decision landing between the two is not missed.
    const remaining = Math.max(0, deadline - Date.now());
    const decided = deps.waiters.wait(id, Math.min(remaining, deps.waitPollMs ?? remaining), abort.signal);
    const current = await getRequest(deps.ctx, actor, id);
    if (current.status !== 'pending' || remaining === 0 || abort.signal.aborted || deps.waiters.isClosed) {
      abort.abort();
      return current;
    }
    // Settled on this hub: the announced view is the requester's, and the caller may see the request
    // (checked by the read above), so it answers without reading it all again.
    const settled = await decided;
    if (settled) return settled.requester === actor.name ? settled : withoutSecrets(settled);
  }
}
