import type { FastifyPluginAsync } from 'fastify';
import { listNotifications, retryNotification } from '../../notify/admin.js';
import { requireActor, type HttpDeps } from '../http-app.js';

/** Admins see how notifications fare and send failed ones again. */
export const notificationRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.get('/api/v1/notifications', async (request) => listNotifications(deps.ctx, await requireActor(deps, request), request.query));
  app.post('/api/v1/notifications/:id/retry', async (request) => {
    const actor = await requireActor(deps, request);
    return retryNotification(deps.ctx, actor, (request.params as { id?: unknown }).id);
  });
};
