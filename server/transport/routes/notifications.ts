import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { myChannelsSchema, notificationIdSchema, notificationPageSchema, notificationQuerySchema, notificationSchema } from '../../../protocol/index.js';
import { listNotifications, retryNotification } from '../../notify/admin.js';
import { myChannels } from '../../notify/my-channels.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const docs = {
  list: routeDoc({
    summary: 'Notifications and how they fared',
    description: 'Webhook deliveries from the outbox, newest first; `status=failed` lists those that ran out of attempts or whose endpoint was disabled.',
    tag: 'notifications',
    auth: 'admin',
    querystring: notificationQuerySchema,
    responses: { 200: notificationPageSchema },
  }),
  retry: routeDoc({
    summary: 'Send a failed notification again',
    description: 'With a fresh retry schedule and the same id; an endpoint disabled by 410 is enabled again.',
    tag: 'notifications',
    auth: 'admin',
    params: z.object({ id: notificationIdSchema }),
    responses: { 200: notificationSchema },
    errors: [404, 409],
  }),
  myChannels: routeDoc({
    summary: 'Which channels reach me',
    description: 'For the signed-in user: the app, email (with their address, when a rule that asks them announces by email), webhooks (never a person); each with the reason and the rules concerned.',
    tag: 'notifications',
    auth: 'token',
    responses: { 200: myChannelsSchema },
  }),
};

/** Admins see how notifications fare and send failed ones again. */
export const notificationRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.get('/api/v1/me/channels', { schema: docs.myChannels, config: { scope: 'any' } }, async (request) => myChannels(deps.ctx, request.actor));
  app.get('/api/v1/notifications', { schema: docs.list, config: { scope: 'admin' } }, async (request) => listNotifications(deps.ctx, request.actor, request.query));
  app.post('/api/v1/notifications/:id/retry', { schema: docs.retry, config: { scope: 'admin' } }, async (request) => {
    const { actor } = request;
    return retryNotification(deps.ctx, actor, (request.params as { id?: unknown }).id);
  });
};
