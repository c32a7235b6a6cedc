import type { FastifyPluginAsync } from 'fastify';
import { auditQuerySchema, parseOrThrow, type AuditEvent } from '../../../protocol/index.js';
import { queryAudit, verifyChain } from '../../domain/audit.js';
import { requireAdmin } from '../../domain/users.js';
import { requireActor, type HttpDeps } from '../http-app.js';

const CSV_COLUMNS = ['seq', 'at', 'actor', 'type', 'requestId', 'action', 'resource', 'environment', 'outcome', 'data', 'hash'] as const;

/** Quotes a CSV cell; a leading = + - @ is neutralised so spreadsheets don't run it as a formula. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvRow = (event: AuditEvent): string => CSV_COLUMNS.map((column) => csvCell(event[column])).join(',');

export const auditRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.get('/api/v1/audit', async (request, reply) => {
    const actor = await requireActor(deps, request);
    requireAdmin(actor);
    const query = parseOrThrow(auditQuerySchema, request.query, 'audit query');
    if (query.format === 'json') return queryAudit(deps.ctx.store.db, query);

    // Exports hold every matching event, written page by page so memory stays flat.
    const stamp = deps.ctx.clock.now().toISOString().replace(/[:.]/g, '-');
    reply.header('content-disposition', `attachment; filename="greenlight-audit-${stamp}.${query.format}"`);
    reply.type(query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    const lines: string[] = query.format === 'csv' ? [CSV_COLUMNS.join(',')] : [];
    let cursor: string | undefined = query.cursor;
    for (;;) {
      const page = await queryAudit(deps.ctx.store.db, { ...query, limit: 1000, cursor });
      for (const event of page.events) lines.push(query.format === 'csv' ? csvRow(event) : JSON.stringify(event));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    return lines.join('\n') + '\n';
  });

  app.get('/api/v1/audit/verify', async (request) => {
    const actor = await requireActor(deps, request);
    requireAdmin(actor);
    return verifyChain(deps.ctx.store.db);
  });
};
