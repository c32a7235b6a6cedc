import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { actorIfAuthenticated } from './authentication.js';

export interface AccessLine {
  method: string;
  /** The route's pattern (`/api/v1/requests/:id`), never the URL itself: paths and queries may carry secrets. */
  route: string;
  status: number;
  ms: number;
  user?: string;
}

export function accessLine(request: FastifyRequest, reply: FastifyReply): AccessLine {
  const route = request.routeOptions.url;
  const line: AccessLine = {
    method: request.method,
    route: route ?? '(no route)',
    status: reply.statusCode,
    ms: Math.round(reply.elapsedTime * 10) / 10,
  };
  const actor = actorIfAuthenticated(request);
  if (actor) line.user = actor.name;
  return line;
}

/**
 * One info line per HTTP request once it is answered: method, route pattern, status, duration and,
 * when the caller authenticated, the user's name. No header, query string or body is ever logged.
 */
export function registerAccessLog(app: FastifyInstance, log: Logger): void {
  const access = log.child({ component: 'http' });
  app.addHook('onResponse', async (request, reply) => {
    access.info(accessLine(request, reply), 'request');
  });
}
