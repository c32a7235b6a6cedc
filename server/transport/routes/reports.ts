import type { FastifyPluginAsync } from 'fastify';
import { decisionReportQuerySchema, decisionReportSchema, parseOrThrow } from '../../../protocol/index.js';
import { decisionReport, reportRange } from '../../domain/reports.js';
import { requireAdmin } from '../../domain/users.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const decisionsDoc = routeDoc({
  summary: 'Time to decision per rule',
  description: 'Median and 95th percentile time from submission to a decision, and the shares escalated, expired and approved by policy, over a range (30 days up to now by default, at most 366).',
  tag: 'reports',
  auth: 'admin',
  querystring: decisionReportQuerySchema,
  responses: { 200: decisionReportSchema },
});

export const reportRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  /** Time to decision per rule, with the shares escalated, expired and approved by policy (admin). */
  app.get('/api/v1/reports/decisions', { schema: decisionsDoc, config: { scope: 'audit:read' } }, async (request) => {
    const { actor } = request;
    requireAdmin(actor);
    const query = parseOrThrow(decisionReportQuerySchema, request.query, 'report range');
    return decisionReport(deps.ctx.store.db, deps.ctx.store.dialect, reportRange(query, deps.ctx.clock.now()));
  });
};
