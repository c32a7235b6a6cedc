import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { hashEvent } from '../server/domain/audit.js';
import { openStore } from '../server/store/database.js';
import { canonicalJson } from '../server/store/json.js';
import type { AuditEventsTable } from '../server/store/schema.js';
import { ADMIN_TOKEN, api, policy, startHubChild, type BenchContext } from './hubs.js';
import { summarize, type Summary } from './stats.js';

export interface HistoryResult {
  events: number;
  firstPage: Summary;
  verifyPerSecond: number;
  generateSeconds: number;
}

const RESOURCES = 200;
const ACTORS = 50;
const TYPES = ['request.submitted', 'request.vote', 'request.approved', 'grant.issued', 'request.escalated', 'request.denied'] as const;
const SPAN_DAYS = 90;

/**
 * Writes `count` chained audit events straight into a fresh hub database (the hub's own migrations
 * and `hashEvent`), one transaction, spread evenly over 90 days and 200 resources. Returns the time
 * of the first event.
 */
export async function generateAudit(dataDir: string, count: number): Promise<number> {
  const store = await openStore({ dataDir });
  await store.close();
  const db = new BetterSqlite3(path.join(dataDir, 'greenlight.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const head = db.prepare('select seq, hash from chain_head where id = 1').get() as { seq: number; hash: string };
  const insert = db.prepare(
    'insert into audit_events (seq, at, actor, type, request_id, action, resource, environment, outcome, data, prev_hash, hash) values (@seq, @at, @actor, @type, @request_id, @action, @resource, @environment, @outcome, @data, @prev_hash, @hash)',
  );
  const start = Date.now() - SPAN_DAYS * 86_400_000;
  const step = (SPAN_DAYS * 86_400_000) / count;
  db.transaction(() => {
    let prev = head.hash;
    let seq = head.seq;
    for (let i = 0; i < count; i++) {
      seq += 1;
      const type = TYPES[i % TYPES.length] ?? 'request.submitted';
      const partial: Omit<AuditEventsTable, 'hash'> = {
        seq,
        at: new Date(start + i * step).toISOString(),
        actor: `user${i % ACTORS}`,
        type,
        request_id: `req_${Math.floor(i / TYPES.length).toString(36).padStart(12, '0')}`,
        action: 'deploy',
        resource: `service-${(i * 7919) % RESOURCES}`,
        environment: i % 3 === 0 ? 'staging' : 'production',
        outcome: type === 'request.denied' ? 'denied' : 'ok',
        data: canonicalJson({ reason: 'routine change', step: i % 4 }),
        prev_hash: prev,
      };
      const hash = hashEvent(partial);
      insert.run({ ...partial, hash });
      prev = hash;
    }
    db.prepare('update chain_head set seq = ?, hash = ? where id = 1').run(seq, prev);
  })();
  db.close();
  return start;
}

/** First page of a filtered audit query over a large log, and how fast the hub verifies the chain. */
export async function runHistory(ctx: BenchContext): Promise<HistoryResult> {
  const events = ctx.quick ? 100_000 : 1_000_000;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-bench-audit-'));
  ctx.progress(`history: generating ${events} chained audit events`);
  const generated = performance.now();
  const start = await generateAudit(dataDir, events);
  const generateSeconds = (performance.now() - generated) / 1000;
  const hub = await startHubChild(ctx, { policy: policy(), dataDir });
  try {
    const pages: number[] = [];
    const queries = ctx.quick ? 30 : 100;
    ctx.progress(`history: ${queries} first pages (resource + 14-day range, limit 50)`);
    for (let i = 0; i < queries + 5; i++) {
      const from = new Date(start + ((i * 13) % (SPAN_DAYS - 14)) * 86_400_000).toISOString();
      const to = new Date(Date.parse(from) + 14 * 86_400_000).toISOString();
      const route = `/api/v1/audit?resource=service-${(i * 37) % RESOURCES}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=50`;
      const t0 = performance.now();
      const { status, body } = await api<{ events: unknown[] }>(hub.url, 'GET', route, ADMIN_TOKEN);
      const elapsed = performance.now() - t0;
      if (status !== 200 || body.events.length === 0) throw new Error(`audit query failed: ${status} ${JSON.stringify(body).slice(0, 200)}`);
      if (i >= 5) pages.push(elapsed);
    }
    ctx.progress(`history: verifying the chain of ${events} events through the hub`);
    const t0 = performance.now();
    const verified = await api<{ ok: boolean; events: number }>(hub.url, 'GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    const seconds = (performance.now() - t0) / 1000;
    if (!verified.body.ok) throw new Error(`verify failed: ${JSON.stringify(verified.body)}`);
    return { events, firstPage: summarize(pages), verifyPerSecond: verified.body.events / seconds, generateSeconds };
  } finally {
    await hub.close();
  }
}
