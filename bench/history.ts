import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { hashEvent } from '../server/domain/audit.js';
import { payloadHashOf } from '../server/domain/payload-hash.js';
import { openStore } from '../server/store/database.js';
import { canonicalJson } from '../server/store/json.js';
import type { AuditEventsTable } from '../server/store/schema.js';
import { ADMIN_TOKEN, api, policy, startHubChild, type BenchContext } from './hubs.js';
import { summarize, type Summary } from './stats.js';

export interface HistoryResult {
  events: number;
  firstPage: Summary;
  verifyPerSecond: number;
  /** The hub's peak RSS during verify over its RSS just before (after a GC), in MB: what the verify held at once. */
  verifyPeakRssMb: number;
  generateSeconds: number;
}

const RESOURCES = 200;
const ACTORS = 50;
/** One request's history, in order: approved by two votes, its grant issued and redeemed. */
const TYPES = ['request.submitted', 'request.escalated', 'request.vote', 'request.approved', 'grant.issued', 'grant.redeemed'] as const;
const SPAN_DAYS = 90;

/**
 * Writes about `count` chained audit events straight into a fresh hub database (the hub's own
 * migrations and `hashEvent`), one transaction, spread evenly over 90 days and 200 resources, with
 * the request, vote and grant rows those events describe, so verify's comparison of the two has the
 * work a real history gives it. Returns the time of the first event.
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
  const insertRequest = db.prepare(
    `insert into requests (id, requester_id, requester_name, action, resource, environment, reason, risk, context, status, version, rule, eligible_groups, eligible_users, created_at, updated_at, decided_at, decided_by)
     values (@id, 'usr_bench', 'bench', 'deploy', @resource, @environment, 'routine change', 'low', '{}', 'approved', 4, '{}', '["sre"]', '[]', @created, @decided, @decided, @decidedBy)`,
  );
  const insertVote = db.prepare(`insert into decisions (request_id, approver_id, approver_name, decision, comment, created_at) values (?, ?, ?, 'approve', null, ?)`);
  const insertGrant = db.prepare(
    `insert into grants (jti, request_id, requester_id, token, payload_hash, issued_at, not_before, expires_at, status, redeemed_at) values (@jti, @request_id, 'usr_bench', 'enc:bench', @payloadHash, @issued, @issued, @expires, 'redeemed', @redeemed)`,
  );
  db.prepare(`insert into users (id, name, roles, disabled, created_at) values ('usr_bench', 'bench', '["requester"]', 0, ?)`).run(new Date().toISOString());
  const requests = Math.floor(count / TYPES.length);
  const start = Date.now() - SPAN_DAYS * 86_400_000;
  const step = (SPAN_DAYS * 86_400_000) / (requests * TYPES.length);
  db.transaction(() => {
    let prev = head.hash;
    let seq = head.seq;
    const append = (partial: Omit<AuditEventsTable, 'hash' | 'seq' | 'prev_hash'>) => {
      seq += 1;
      const event = { ...partial, seq, prev_hash: prev };
      const hash = hashEvent(event);
      insert.run({ ...event, hash });
      prev = hash;
    };
    // The requester's account, as an admin makes it: verify holds the users row to this event.
    append({ at: new Date(start - 60_000).toISOString(), actor: 'admin', type: 'user.created', request_id: null, action: null, resource: null, environment: null, outcome: 'created', data: canonicalJson({ user: 'bench', roles: ['requester'], groups: [] }) });
    for (let r = 0; r < requests; r++) {
      const id = `req_${r.toString(36).padStart(12, '0')}`;
      const jti = `gnt_${r.toString(36).padStart(12, '0')}`;
      const base = r * TYPES.length;
      const at = (k: number) => new Date(start + (base + k) * step).toISOString();
      // The requester submits; the other steps are approvers' and the hub's.
      const actor = (k: number) => (k === 0 ? 'bench' : `user${(base + k) % ACTORS}`);
      const resource = `service-${(r * 7919) % RESOURCES}`;
      const environment = r % 3 === 0 ? 'staging' : 'production';
      const expires = new Date(Date.parse(at(4)) + 30 * 60_000).toISOString();
      const payloadHash = payloadHashOf({ action: 'deploy', resource, environment, context: {} });
      TYPES.forEach((type, k) => {
        const data = type === 'grant.issued' ? { jti, expiresAt: expires, payloadHash } : type === 'grant.redeemed' ? { jti } : { reason: 'routine change', step: k % 4 };
        append({ at: at(k), actor: actor(k), type, request_id: id, action: 'deploy', resource, environment, outcome: 'ok', data: canonicalJson(data) });
      });
      insertRequest.run({ id, resource, environment, created: at(0), decided: at(3), decidedBy: actor(3) });
      for (const k of [2, 3]) insertVote.run(id, `usr_${actor(k)}`, actor(k), at(k));
      insertGrant.run({ jti, request_id: id, payloadHash, issued: at(4), expires, redeemed: at(5) });
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
    const rssBefore = await hub.rss();
    const peakBefore = await hub.maxRss();
    const t0 = performance.now();
    const verified = await api<{ ok: boolean; events: number }>(hub.url, 'GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    const seconds = (performance.now() - t0) / 1000;
    if (!verified.body.ok) throw new Error(`verify failed: ${JSON.stringify(verified.body)}`);
    const peakAfter = await hub.maxRss();
    // The peak only says what verify held when verify set it; otherwise it bounds it from above.
    if (peakAfter <= peakBefore) ctx.progress('history: verify stayed under the hub\'s earlier peak RSS: audit_verify_peak_rss_mb is an upper bound');
    const verifyPeakRssMb = Math.max(0, peakAfter - rssBefore) / 1024 / 1024;
    return { events: verified.body.events, firstPage: summarize(pages), verifyPerSecond: verified.body.events / seconds, verifyPeakRssMb, generateSeconds };
  } finally {
    await hub.close();
  }
}
