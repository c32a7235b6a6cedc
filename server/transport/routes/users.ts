import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseOrThrow, userNameSchema } from '../../../protocol/index.js';
import { createUser, listUsers } from '../../domain/users.js';
import { disableUser, enableUser, updateUser } from '../../domain/user-admin.js';
import { setupStatus } from '../../domain/setup-status.js';
import { requireActor, type HttpDeps } from '../http-app.js';

const nameParam = z.strictObject({ name: z.union([userNameSchema, z.string().regex(/^usr_[a-z0-9]+$/)]) });

export const userRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.post('/api/v1/users', async (request, reply) => {
    const actor = await requireActor(deps, request);
    const user = await createUser(deps.ctx, actor, request.body);
    return reply.status(201).send(user);
  });
  app.get('/api/v1/users', async (request) => {
    const actor = await requireActor(deps, request);
    return { users: await listUsers(deps.ctx, actor) };
  });
  app.get('/api/v1/me', async (request) => {
    const actor = await requireActor(deps, request);
    return actor;
  });
  app.patch('/api/v1/users/:name', async (request) => {
    const actor = await requireActor(deps, request);
    const { name } = parseOrThrow(nameParam, request.params, 'user');
    return updateUser(deps.ctx, actor, name, request.body);
  });
  app.post('/api/v1/users/:name/disable', async (request) => {
    const actor = await requireActor(deps, request);
    const { name } = parseOrThrow(nameParam, request.params, 'user');
    return disableUser(deps.ctx, actor, name);
  });
  app.post('/api/v1/users/:name/enable', async (request) => {
    const actor = await requireActor(deps, request);
    const { name } = parseOrThrow(nameParam, request.params, 'user');
    return enableUser(deps.ctx, actor, name);
  });
  app.get('/api/v1/setup', async (request) => {
    const actor = await requireActor(deps, request);
    return setupStatus(deps.ctx, actor);
  });
};
