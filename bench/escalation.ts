import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { io as connect } from 'socket.io-client';
import { newId } from '../server/ids.js';
import type { DeadlinesTable, RequestsTable } from '../server/store/schema.js';
import { wallMs } from './clock.js';
import { api, createUsers, policy, requestBody, startHubChild, type BenchContext } from './hubs.js';
import { summarize, type Summary } from './stats.js';

export interface EscalationResult {
  /** Over every escalation due inside the measured window that arrived (the latest included). */
  lag: Summary;
  /** Pending escalation deadlines in the database when the first one fell due. */
  deadlines: number;
  /** Escalations due inside the window, those that arrived, and those that never did (within the grace). */
  expected: number;
  received: number;
  missing: number;
}

const AFTER_SECONDS = 60;
/** How long after the last due time in the window the lead's client keeps listening for stragglers. */
const GRACE_MS = 10_000;

/**
 * Deadline → `request:escalated` at a lead's client, with a backlog of pending deadlines.
 * The backlog is written straight into the hub's SQLite file while the hub is stopped: copies of a
 * request submitted through the API (same frozen rule), each with its escalation deadline, due one
 * every `spacingMs` from a few seconds after the hub is back. Lag = arrival − due time (the hub's
 * clock and ours are the same system clock; ~1 ms granularity in the stored due time).
 * Every escalation due inside the window is waited for (up to GRACE_MS after the last due time), so
 * the most delayed ones count; those due later are ignored.
 */
export async function runEscalation(ctx: BenchContext): Promise<EscalationResult> {
  const pending = ctx.quick ? 2000 : 10_000;
  const measureSeconds = ctx.quick ? 5 : 20;
  const spacingMs = 10;
  let hub = await startHubChild(ctx, { policy: policy({ escalateAfter: `${AFTER_SECONDS}s` }), keepData: true });
  const dataDir = hub.dataDir;
  const [requester] = await createUsers(hub.url, 'requester', 1, ['requester'], []);
  const [lead] = await createUsers(hub.url, 'lead', 1, ['lead'], ['leads']);
  // An approver in sre, so the request waits for its deadline instead of escalating at submission.
  await createUsers(hub.url, 'approver', 1, ['approver'], ['sre']);
  if (!requester || !lead) throw new Error('no users');
  const submitted = await api<{ id: string }>(hub.url, 'POST', '/api/v1/requests', requester, requestBody());
  await hub.child.close({ type: 'stop' });

  ctx.progress(`escalation: writing ${pending} pending requests with escalation deadlines`);
  const db = new BetterSqlite3(path.join(dataDir, 'greenlight.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const template = db.prepare('select * from requests where id = ?').get(submitted.body.id) as RequestsTable;
  db.prepare('update deadlines set done = 1 where request_id = ?').run(template.id);
  const insertRequest = db.prepare(`insert into requests (${Object.keys(template).join(', ')}) values (${Object.keys(template).map((key) => `@${key}`).join(', ')})`);
  const insertDeadline = db.prepare('insert into deadlines (id, kind, request_id, grant_jti, delegation_id, step, due_at, done) values (@id, @kind, @request_id, @grant_jti, @delegation_id, @step, @due_at, @done)');
  const firstDue = Date.now() + (ctx.quick ? 4000 : 10_000);
  const dueById = new Map<string, number>();
  db.transaction(() => {
    for (let i = 0; i < pending; i++) {
      const due = new Date(firstDue + i * spacingMs);
      const created = new Date(due.getTime() - AFTER_SECONDS * 1000);
      const row: RequestsTable = { ...template, id: newId('req', created), created_at: created.toISOString(), updated_at: created.toISOString(), next_escalation_at: due.toISOString() };
      insertRequest.run(row);
      dueById.set(row.id, due.getTime());
      const deadline: DeadlinesTable = { id: newId('ddl', created), kind: 'escalation', request_id: row.id, grant_jti: null, delegation_id: null, step: 0, due_at: due.toISOString(), done: 0 };
      insertDeadline.run(deadline);
    }
  })();
  db.close();

  hub = await startHubChild(ctx, { policy: policy({ escalateAfter: `${AFTER_SECONDS}s` }), dataDir, keepData: false });
  // Arrival time per request (the first, if one came twice); lag = arrival − due.
  const arrivals = new Map<string, number>();
  /** Set once the window is known: resolves when the last escalation due in it has arrived. */
  let awaiting: { ids: Set<string>; done: () => void } | null = null;
  const socket = connect(hub.url, { forceNew: true, transports: ['websocket'], auth: { token: lead }, reconnection: false });
  try {
    socket.on('request:escalated', (payload: { request: { id: string; createdAt: string } }) => {
      const at = wallMs();
      if (arrivals.has(payload.request.id)) return;
      arrivals.set(payload.request.id, at);
      if (awaiting?.ids.delete(payload.request.id) && awaiting.ids.size === 0) awaiting.done();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const wait = firstDue - Date.now();
    if (wait < 0) ctx.progress(`escalation: the hub came back ${-wait} ms after the first deadline; early figures include start-up`);
    const windowEnd = Math.max(Date.now(), firstDue) + measureSeconds * 1000;
    const due = [...dueById].filter(([, at]) => at <= windowEnd);
    const lastDue = Math.max(...due.map(([, at]) => at));
    ctx.progress(`escalation: ${pending} pending, one due every ${spacingMs} ms; measuring ${measureSeconds} s (${due.length} due), then waiting for the last of them`);
    const outstanding = new Set(due.map(([id]) => id).filter((id) => !arrivals.has(id)));
    const allArrived = new Promise<void>((resolve) => {
      awaiting = { ids: outstanding, done: resolve };
      if (outstanding.size === 0) resolve();
    });
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([allArrived, new Promise<void>((resolve) => (grace = setTimeout(resolve, Math.max(0, lastDue + GRACE_MS - Date.now()))))]);
    clearTimeout(grace);
    socket.close();
    const lags: number[] = [];
    for (const [id, at] of due) {
      const arrival = arrivals.get(id);
      if (arrival !== undefined) lags.push(arrival - at);
    }
    const missing = due.length - lags.length;
    if (missing > 0) ctx.progress(`escalation: ${missing} of ${due.length} escalations due in the window never arrived (waited ${GRACE_MS / 1000} s past the last due time); the lag figures leave them out`);
    return { lag: summarize(lags), deadlines: pending, expected: due.length, received: lags.length, missing };
  } finally {
    socket.close();
    await hub.close();
  }
}
