import type { FastifyPluginAsync } from 'fastify';
import { decisionReportQuerySchema, parseOrThrow } from '../../../protocol/index.js';
import { decisionReport, reportRange } from '../../domain/reports.js';
import { requireAdmin } from '../../domain/users.js';
import { requireActor, type HttpDeps } from '../http-app.js';

export const reportRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  /** Time to decision per rule, with the shares escalated, expired and approved by policy (admin). */
  app.get('/api/v1/reports/decisions', async (request) => {
    const actor = await requireActor(deps, request);
    requireAdmin(actor);
    const query = parseOrThrow(decisionReportQuerySchema, request.query, 'report range');
    return decisionReport(deps.ctx.store.db, deps.ctx.store.dialect, reportRange(query, deps.ctx.clock.now()));
  });
};
