import type { FastifyPluginAsync } from 'fastify';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { auditPageSchema, auditQuerySchema, parseOrThrow, type AuditEvent, type AuditQuery } from '../../../protocol/index.js';
import { existsSync } from 'node:fs';
import { queryAudit } from '../../domain/audit.js';
import { verifyAudit, type Anchor } from '../../domain/audit-verify.js';
import { keyInUse, readCheckpointLog, type Checkpoint } from '../../domain/checkpoints.js';
import { auditVerifyQuerySchema } from '../audit-verify-query.js';
import { auditVerifyOutcomeSchema } from '../audit-verify-outcome.js';
import { requireAdmin } from '../../domain/users.js';
import type { HttpDeps } from '../http-deps.js';
import { routeDoc } from '../route-docs.js';

const CSV_COLUMNS = ['seq', 'at', 'actor', 'type', 'requestId', 'action', 'resource', 'environment', 'outcome', 'data', 'hash'] as const;
/** Without it Excel reads a CSV in the system's legacy code page, and "Zoë" comes out as "ZoÃ«". */
const UTF8_BOM = '\uFEFF';

/** Quotes a CSV cell; a leading = + - @ is neutralised so spreadsheets don't run it as a formula. */
export function csvCell(value: unknown): string {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvRow = (event: AuditEvent): string => CSV_COLUMNS.map((column) => csvCell(event[column])).join(',');

/**
 * The export, a page at a time; the CSV's BOM and header go out with the first page, so a first
 * query that fails is still an error reply. JSON lines get no BOM: JSON parsers refuse one.
 */
async function* exportPages(deps: HttpDeps, query: AuditQuery, first: { events: AuditEvent[]; nextCursor: string | null }): AsyncGenerator<string> {
  let page = first;
  let header = query.format === 'csv' ? `${UTF8_BOM}${CSV_COLUMNS.join(',')}\n` : '';
  for (;;) {
    const lines = page.events.map((event) => (query.format === 'csv' ? csvRow(event) : JSON.stringify(event)));
    if (header || lines.length) yield header + (lines.length ? lines.join('\n') + '\n' : '');
    header = '';
    if (!page.nextCursor) return;
    page = await queryAudit(deps.ctx.store.db, { ...query, limit: 1000, cursor: page.nextCursor });
  }
}


/** The hub's own checkpoint log: a line that is not a checkpoint is itself a finding. */
function ownLog(file: string): { checkpoints: Checkpoint[]; notes: string[] } {
  if (!existsSync(file)) return { checkpoints: [], notes: [] };
  const lines = readCheckpointLog(file);
  return {
    checkpoints: lines.flatMap((line) => (line.checkpoint ? [line.checkpoint] : [])),
    notes: lines.filter((line) => !line.checkpoint).map((line) => `${file} line ${line.line} is not a checkpoint (${line.problem ?? 'unreadable'})`),
  };
}

const docs = {
  query: routeDoc({
    summary: 'Search the audit log, or export it',
    description: '`format=json` (the default) answers a page; `csv` and `jsonl` stream every matching event as a download.',
    tag: 'audit',
    auth: 'admin',
    querystring: auditQuerySchema,
    responses: {
      200: {
        description: 'A page of events (json), or the whole export (csv, jsonl)',
        content: { 'application/json': { schema: auditPageSchema }, 'text/csv': { schema: z.string() }, 'application/x-ndjson': { schema: z.string() } },
      },
    },
  }),
  verify: routeDoc({
    summary: 'Recompute the hash chain and check it against the signed checkpoints',
    description:
      'Checks every checkpoint signature (the database\'s and the hub\'s checkpoint log), then the chain, then that it passes through each checkpoint and each `expect` hash. ' +
      '`ok: false` names the first event that was edited or removed and the `kind` of tampering: `chain`, `truncated`, `rewritten`, `bad_signature`, `checkpoint_deleted`, ' +
      '`foreign_checkpoints` (the hub\'s checkpoint log, unless `--checkpoint-log-shared`, or the caller\'s, holds another chain\'s checkpoints instead of this database\'s or before them: its chain id was changed). `chainId` names the database\'s chain. ' +
      'With the chain intact, the requests, votes and grants are then held against its events: `kind: state` lists each row that disagrees (`findings`, with a `reason`: `state_disagrees`, `no_event`, `state_missing`, `redeemed_twice`, `ended_twice`).',
    tag: 'audit',
    auth: 'admin',
    querystring: auditVerifyQuerySchema,
    responses: { 200: auditVerifyOutcomeSchema },
  }),
};

export const auditRoutes: FastifyPluginAsync<HttpDeps> = async (app, deps) => {
  app.get('/api/v1/audit', { schema: docs.query, config: { scope: 'audit:read' } }, async (request, reply) => {
    const { actor } = request;
    requireAdmin(actor);
    const query = parseOrThrow(auditQuerySchema, request.query, 'audit query');
    if (query.format === 'json') return queryAudit(deps.ctx.store.db, query);

    // Exports hold every matching event: streamed a page at a time, so memory stays flat however long the history.
    const first = await queryAudit(deps.ctx.store.db, { ...query, limit: 1000 });
    const stamp = deps.ctx.clock.now().toISOString().replace(/[:.]/g, '-');
    reply.header('content-disposition', `attachment; filename="greenlight-audit-${stamp}.${query.format}"`);
    reply.type(query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    return reply.send(Readable.from(exportPages(deps, query, first)));
  });

  app.get('/api/v1/audit/verify', { schema: docs.verify, config: { scope: 'audit:read' } }, async (request) => {
    const { actor } = request;
    requireAdmin(actor);
    const query = parseOrThrow(auditVerifyQuerySchema, request.query, 'verify query');
    const log = ownLog(deps.checkpoints.logFile);
    const held = (query.checkpoints ?? []).map((entry): Anchor => ({ ...entry, source: "the caller's checkpoint log" }));
    const outcome = await verifyAudit(deps.ctx.store.db, {
      publicKeys: [keyInUse(deps.checkpoints.publicKey), ...deps.checkpoints.retired],
      outside: [{ source: `the checkpoint log ${deps.checkpoints.logFile}`, checkpoints: log.checkpoints, shared: deps.checkpoints.logShared }],
      trusted: [...(query.expect ?? []).map((entry): Anchor => ({ ...entry, source: '--expect' })), ...held],
      mustExist: held,
    });
    return outcome.ok ? { ...outcome, notes: [...outcome.notes, ...log.notes] } : outcome;
  });
};
