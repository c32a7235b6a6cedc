import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { actingForSchema, createdTokenSchema, createdUserSchema, newUserSchema, parseOrThrow, ROLES, SCOPES, TOKEN_KINDS, userNameSchema, userSchema, userUpdateSchema } from '../../../protocol/index.js';
import { activeDelegatorsOf } from '../../domain/deciders.js';
import { viewerOf } from '../../domain/capacities.js';
import { setupStatusSchema } from '../../../protocol/setup.js';
import { createUser, listUsers } from '../../domain/users.js';
import { disableUser, enableUser, reissueSignInToken, updateUser } from '../../domain/user-admin.js';
import { setupStatus } from '../../domain/setup-status.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const userIdSchema = z.string().regex(/^usr_[a-z0-9]+$/);
const nameParam = z.strictObject({
  name: z.string().refine((value) => userNameSchema.safeParse(value).success || userIdSchema.safeParse(value).success, {
    message: 'expected a user name (letters, digits and . _ @ -) or a user id (usr_…)',
  }),
});
const actorSchema = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(z.enum(ROLES)),
  groups: z.array(z.string()),
  service: z.boolean(),
  /** What the token used for this call may do, and which token it is. */
  scopes: z.array(z.enum(SCOPES)),
  tokenId: z.string().nullable(),
  tokenKind: z.enum(TOKEN_KINDS).nullable(),
  /** Whose approvals they may give now, as their delegate (as the app's sync sends it); absent: nobody's. */
  actingFor: z.array(actingForSchema).optional(),
});

const docs = {
  create: routeDoc({
    summary: 'Create a user and their first token',
    description: 'The token is in this answer only; the hub keeps just its hash.',
    tag: 'users',
    auth: 'admin',
    body: newUserSchema,
    responses: { 201: createdUserSchema },
    errors: [409],
  }),
  list: routeDoc({ summary: 'Every user', tag: 'users', auth: 'admin', responses: { 200: z.object({ users: z.array(userSchema) }) } }),
  me: routeDoc({
    summary: 'Who the token belongs to',
    description: "With `actingFor`, the approvers whose votes they may cast now as their delegate: with a request's view, `decidesFor` (protocol) says whom they may decide it for.",
    tag: 'users',
    auth: 'token',
    responses: { 200: actorSchema },
  }),
  disable: routeDoc({
    summary: 'Disable a user',
    description: 'Their tokens stop working at once and their sockets are closed.',
    tag: 'users',
    auth: 'admin',
    params: nameParam,
    responses: { 200: userSchema },
    errors: [403, 404, 409],
  }),
  update: routeDoc({
    summary: "Change a user's email, roles or groups",
    description: 'Only the fields sent change; `email: null` removes it. Audited. An admin never removes their own admin role, and no change may leave the hub without an active admin (LAST_ADMIN).',
    tag: 'users',
    auth: 'admin',
    params: nameParam,
    body: userUpdateSchema,
    responses: { 200: userSchema },
    errors: [403, 404, 409],
  }),
  enable: routeDoc({
    summary: 'Enable a disabled user again',
    description: 'Their tokens work again. Audited; enabling someone already active changes nothing.',
    tag: 'users',
    auth: 'admin',
    params: nameParam,
    responses: { 200: userSchema },
    errors: [404],
  }),
  reissueToken: routeDoc({
    summary: 'Issue a person a new sign-in token',
    description:
      'For someone who lost their token or whose token leaked: their earlier sign-in tokens stop working at once (named tokens they made stay, and can be revoked one by one). The new token is in this answer only. Audited.',
    tag: 'users',
    auth: 'admin',
    params: nameParam,
    responses: { 201: createdTokenSchema },
    errors: [403, 404],
  }),
  setup: routeDoc({
    summary: "What an admin still has to set up",
    description:
      "Where the policy comes from and its digest, how many users there are, who can approve for each group the policy names, and (PostgreSQL) the other hubs on the database with the policy each runs: `cluster.policyWarning` names those running another one, and `cluster.clockWarning` says when this hub's system clock is over 30 s from the database's.",
    tag: 'users',
    auth: 'admin',
    responses: { 200: setupStatusSchema },
  }),
};

export const userRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.post('/api/v1/users', { schema: docs.create, config: { scope: 'admin' } }, async (request, reply) => {
    const { actor } = request;
    const user = await createUser(deps.ctx, actor, request.body);
    return reply.status(201).send(user);
  });
  app.get('/api/v1/users', { schema: docs.list, config: { scope: 'admin' } }, async (request) => {
    const { actor } = request;
    return { users: await listUsers(deps.ctx, actor) };
  });
  app.get('/api/v1/me', { schema: docs.me, config: { scope: 'any' } }, async (request) => {
    const { actor } = request;
    const delegators = await activeDelegatorsOf(deps.ctx.store.db, actor, deps.ctx.clock.now());
    return { ...actor, ...viewerOf(actor, delegators) };
  });
  app.patch('/api/v1/users/:name', { schema: docs.update, config: { scope: 'admin' } }, async (request) => {
    const { actor } = request;
    const { name } = parseOrThrow(nameParam, request.params, 'user');
    return updateUser(deps.ctx, actor, name, request.body);
  });
  app.post('/api/v1/users/:name/disable', { schema: docs.disable, config: { scope: 'admin' } }, async (request) => {
    const { actor } = request;
    const { name } = parseOrThrow(nameParam, request.params, 'user');
    return disableUser(deps.ctx, actor, name);
  });
  app.post('/api/v1/users/:name/enable', { schema: docs.enable, config: { scope: 'admin' } }, async (request) => {
    const { actor } = request;
    const { name } = parseOrThrow(nameParam, request.params, 'user');
    return enableUser(deps.ctx, actor, name);
  });
  app.post('/api/v1/users/:name/sign-in-token', { schema: docs.reissueToken, config: { scope: 'admin' } }, async (request, reply) => {
    const { name } = parseOrThrow(nameParam, request.params, 'user');
    return reply.status(201).send(await reissueSignInToken(deps.ctx, request.actor, name));
  });
  app.get('/api/v1/setup', { schema: docs.setup, config: { scope: 'admin' } }, async (request) => {
    const { actor } = request;
    return setupStatus(deps.ctx, actor);
  });
};
