import { io as connect } from 'socket.io-client';
import { sleep, wallMs } from './clock.js';
import { api, createUsers, policy, requestBody, startHubChild, type BenchContext, type HubChild } from './hubs.js';
import { scratchDatabase } from './postgres.js';
import { summarize } from './stats.js';

/** Each request escalates this long after it was submitted. */
const AFTER_SECONDS = 5;
const RATE_PER_SECOND = 100;
/** How long after the last due time the lead's client keeps listening for stragglers. */
const GRACE_MS = 10_000;

/**
 * Two PostgreSQL hubs on one database under a steady 100 submissions/s (alternating between them),
 * every request escalating to the leads 5 s after it was submitted. Halfway through the load one hub
 * is killed (SIGKILL) and every later submission goes to the other, which must also fire the dead
 * hub's deadlines. The lead's client is connected to the survivor from the start; lag = arrival −
 * due time (created + 5 s, as the hub stores it), over every escalation of a request whose
 * submission was acknowledged, and separately over those falling due after the kill.
 */
export async function runPgEscalation(ctx: BenchContext, adminUrl: string): Promise<Record<string, number | null>> {
  const loadSeconds = ctx.quick ? 10 : 30;
  const database = await scratchDatabase(adminUrl);
  const text = policy({ escalateAfter: `${AFTER_SECONDS}s` });
  let victim: HubChild | null = null;
  let survivor: HubChild | null = null;
  try {
    victim = await startHubChild(ctx, { policy: text, databaseUrl: database.url });
    survivor = await startHubChild(ctx, { policy: text, databaseUrl: database.url });
    const [requester] = await createUsers(survivor.url, 'requester', 1, ['requester'], []);
    const [lead] = await createUsers(survivor.url, 'lead', 1, ['lead'], ['leads']);
    // Someone in the approver group: with nobody there, a request escalates at submission instead of at its deadline.
    const [approver] = await createUsers(survivor.url, 'approver', 1, ['approver'], ['sre']);
    if (!requester || !lead || !approver) throw new Error('no users');

    const arrivals = new Map<string, { at: number; due: number }>();
    let recoveredBySync = 0;
    const socket = connect(survivor.url, { forceNew: true, transports: ['websocket'], auth: { token: lead }, reconnection: false });
    try {
      socket.on('request:escalated', (payload: { request: { id: string; createdAt: string } }) => {
        const at = wallMs();
        if (arrivals.has(payload.request.id)) return;
        arrivals.set(payload.request.id, { at, due: Date.parse(payload.request.createdAt) + AFTER_SECONDS * 1000 });
      });
      // As HubClient does: when the survivor says a hub left, sync, and count each escalation found
      // there that never arrived as a push (the killed hub committed it, then died before pushing).
      socket.on('requests:stale', () => {
        socket.emit('requests:sync', {}, (answer: { data?: { inbox: { id: string; createdAt: string; escalationLevel: number }[] } }) => {
          const at = wallMs();
          for (const request of answer.data?.inbox ?? []) {
            if (request.escalationLevel < 1 || arrivals.has(request.id)) continue;
            arrivals.set(request.id, { at, due: Date.parse(request.createdAt) + AFTER_SECONDS * 1000 });
            recoveredBySync += 1;
          }
        });
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });

      const count = loadSeconds * RATE_PER_SECOND;
      const killAt = Math.floor(count / 2);
      const intervalMs = 1000 / RATE_PER_SECOND;
      /** Acknowledged submissions: id → due time. */
      const submitted = new Map<string, number>();
      let failed = 0;
      /** Failed submissions by HTTP status or network error code, for the progress line. */
      const failures = new Map<string, number>();
      let killedAt = Number.POSITIVE_INFINITY;
      const sends: Promise<void>[] = [];
      ctx.progress(`pg escalation: ${RATE_PER_SECOND} submissions/s for ${loadSeconds} s over two hubs, escalating after ${AFTER_SECONDS} s; one hub killed after ${loadSeconds / 2} s`);
      const start = performance.now();
      const survivorUrl = survivor.url;
      for (let i = 0; i < count; i++) {
        const wait = start + i * intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
        if (i === killAt && victim) {
          const dying = victim;
          victim = null;
          killedAt = wallMs();
          ctx.progress('pg escalation: killing one hub (SIGKILL)');
          void dying.child.kill().then(() => dying.close());
        }
        const url = victim && i % 2 === 0 ? victim.url : survivorUrl;
        sends.push(
          api<{ id: string; createdAt: string }>(url, 'POST', '/api/v1/requests', requester, requestBody()).then(
            ({ status, body }) => {
              if (status === 201) submitted.set(body.id, Date.parse(body.createdAt) + AFTER_SECONDS * 1000);
              else {
                failed += 1;
                failures.set(String(status), (failures.get(String(status)) ?? 0) + 1);
              }
            },
            (error: unknown) => {
              failed += 1;
              const code = (error as { code?: unknown } | null)?.code;
              failures.set(String(code ?? 'error'), (failures.get(String(code ?? 'error')) ?? 0) + 1);
            },
          ),
        );
      }
      await Promise.all(sends);
      const achieved = count / ((performance.now() - start) / 1000);
      const lastDue = Math.max(...submitted.values());
      ctx.progress(`pg escalation: ${submitted.size} submissions acknowledged (${failed} failed: ${JSON.stringify(Object.fromEntries(failures))}); waiting for their escalations`);
      while (Date.now() < lastDue + GRACE_MS && [...submitted.keys()].some((id) => !arrivals.has(id))) await sleep(100);

      const lags: number[] = [];
      const afterKill: number[] = [];
      for (const [id, due] of submitted) {
        const arrival = arrivals.get(id);
        if (!arrival) continue;
        lags.push(arrival.at - due);
        if (due > killedAt) afterKill.push(arrival.at - due);
      }
      const all = summarize(lags);
      const late = summarize(afterKill);
      const missing = submitted.size - lags.length;
      if (missing > 0) {
        ctx.progress(`pg escalation: ${missing} escalations never arrived (waited ${GRACE_MS / 1000} s past the last due time)`);
        // Whether each was escalated and only its push was lost, and when it fell due against the kill.
        for (const [id, due] of submitted) {
          if (arrivals.has(id)) continue;
          const { body } = await api<{ escalationLevel: number; status: string; updatedAt: string }>(survivorUrl, 'GET', `/api/v1/requests/${id}`, lead);
          ctx.progress(`pg escalation: ${id} due ${Math.round(due - killedAt)} ms after the kill; stored: ${body.status}, escalation level ${body.escalationLevel}, updated ${Math.round(Date.parse(body.updatedAt) - killedAt)} ms after the kill`);
        }
      }
      return {
        pg_escalation_lag_under_load_p50_ms: all.p50,
        pg_escalation_lag_under_load_p99_ms: all.p99,
        pg_escalation_lag_under_load_max_ms: all.max,
        pg_escalation_lag_after_takeover_p99_ms: late.p99,
        pg_escalation_lag_after_takeover_max_ms: late.max,
        pg_escalation_submit_per_s: achieved,
        pg_escalation_expected: submitted.size,
        pg_escalation_received: lags.length,
        pg_escalation_missing: missing,
        pg_escalation_recovered_by_sync: recoveredBySync,
        pg_escalation_submit_failed: failed,
      };
    } finally {
      socket.close();
    }
  } finally {
    await victim?.close();
    await survivor?.close();
    await database.drop();
  }
}
