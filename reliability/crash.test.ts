import { afterAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { HubDataDir, HubProcess } from '../server/test-support/hub-process.js';
import { ADMIN_TOKEN, deployRequest } from '../server/test-support/hub-fixture.js';
import { auditEvents, call, countByRequest, eventually } from './support.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 1s, notify: [leads] }
    # The workers submit as one requester, faster than escalations decide anything.
    maxPending: 100000
`;

const KILLS = 10;
const WORKERS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.random() * (high - low);

interface Outcome {
  key: string;
  /** Every id the hub answered for this key, across retries. */
  ids: Set<string>;
  statuses: number[];
}

describe('a hub SIGKILLed at random points under a steady stream of submissions', () => {
  const data = new HubDataDir(POLICY);
  const hub = new HubProcess([...data.args, '--rate-limit', '1000000'], { GREENLIGHT_ADMIN_TOKEN: ADMIN_TOKEN });
  afterAll(async () => {
    await hub.kill();
    data.remove();
  });

  it('keeps every acknowledged submission exactly once and fires each overdue escalation once', async () => {
    await hub.start();
    const alice = await call<{ token: string }>(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'alice', roles: ['requester'] });
    await call(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'lena', roles: ['lead'], groups: ['leads'] });
    // An approver in sre, so requests wait for their escalation deadline instead of escalating at submission.
    await call(hub.url, 'POST', '/api/v1/users', ADMIN_TOKEN, { name: 'bob', roles: ['approver'], groups: ['sre'] });
    const token = alice.body.token;

    const outcomes: Outcome[] = [];
    let stopping = false;
    let refusedWhileUp = 0;

    // A pipeline that retries each submission (same idempotency key) until the hub says 201 or 200.
    const worker = async (lane: number) => {
      for (let seq = 0; !stopping; seq++) {
        const outcome: Outcome = { key: `crash-${lane}-${seq}`, ids: new Set(), statuses: [] };
        outcomes.push(outcome);
        for (;;) {
          try {
            const reply = await call<GreenlightRequest>(hub.url, 'POST', '/api/v1/requests', token, deployRequest({ idempotencyKey: outcome.key }));
            if (reply.status === 201 || reply.status === 200) {
              outcome.statuses.push(reply.status);
              outcome.ids.add(reply.body.id);
              break;
            }
            // 503 while closing, or anything else: the pipeline retries like it would after a network error.
            refusedWhileUp++;
          } catch {
            // connection refused or reset: the hub is down or just died
          }
          await sleep(25);
        }
        await sleep(15);
      }
    };
    const lanes = Array.from({ length: WORKERS }, (_, lane) => worker(lane));

    // Acknowledged submissions sent again after a restart, as a pipeline that never saw the reply would.
    const resent: { key: string; id: string; status: number; resentId: string }[] = [];
    const downtimes: { from: number; to: number }[] = [];
    const began = Date.now();
    for (let kill = 0; kill < KILLS; kill++) {
      await sleep(between(150, 900));
      await hub.kill();
      // Taken once the process is gone: nothing due from here on can fire before the restart.
      const from = Date.now();
      // Every other outage outlasts the 1 s deadline, so the requests acknowledged just before the kill fall due
      // while the hub is down; the others are short, as a supervisor's quick restart would be.
      await sleep(kill % 2 === 0 ? between(1100, 1400) : between(0, 400));
      const restarting = Date.now();
      await hub.start();
      downtimes.push({ from, to: restarting });
      const acknowledged = outcomes.filter((o) => o.ids.size > 0 && o.statuses.length > 0).slice(-5);
      for (const outcome of acknowledged) {
        const reply = await call<GreenlightRequest>(hub.url, 'POST', '/api/v1/requests', token, deployRequest({ idempotencyKey: outcome.key }));
        resent.push({ key: outcome.key, id: [...outcome.ids][0] as string, status: reply.status, resentId: reply.body.id });
      }
    }
    await sleep(500);
    stopping = true;
    await Promise.all(lanes);

    const created = outcomes.filter((o) => o.statuses.includes(201));
    console.log(`crash: ${KILLS} kills in ${Date.now() - began} ms; ${outcomes.length} submissions, ${created.length} answered 201, ${outcomes.filter((o) => !o.statuses.includes(201)).length} answered only 200 after a retry, ${refusedWhileUp} refused while the hub went down`);

    // Retries never forked a submission: one key, one id; a key sent again after a restart is answered 200 with its request.
    for (const outcome of outcomes) expect(outcome.ids.size, outcome.key).toBe(1);
    expect(resent.length).toBeGreaterThanOrEqual(KILLS * 5);
    for (const again of resent) expect({ key: again.key, status: again.status, id: again.resentId }).toEqual({ key: again.key, status: 200, id: again.id });
    const idOf = new Map(outcomes.map((o) => [o.key, [...o.ids][0] as string]));
    expect(new Set(idOf.values()).size).toBe(outcomes.length);

    // Every acknowledged submission exists exactly once in the requester's own list, and nothing else does.
    const listed: GreenlightRequest[] = [];
    let cursor: string | null = null;
    do {
      const route = `/api/v1/requests?mine=true&limit=500${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { status: number; body: { requests: GreenlightRequest[]; nextCursor: string | null } } = await call(hub.url, 'GET', route, token);
      expect(page.status).toBe(200);
      listed.push(...page.body.requests);
      cursor = page.body.nextCursor;
    } while (cursor);
    const listedCounts = new Map<string, number>();
    for (const request of listed) listedCounts.set(request.id, (listedCounts.get(request.id) ?? 0) + 1);
    for (const id of idOf.values()) expect(listedCounts.get(id), id).toBe(1);
    expect(listed).toHaveLength(outcomes.length);

    // Each request was left pending past its 1 s deadline: each escalates, once, even across the kills.
    const lastDeadline = Math.max(...listed.map((r) => Date.parse(r.createdAt))) + 1000;
    await eventually(async () => (Date.now() > lastDeadline ? true : undefined), { what: 'the last deadline to pass' });
    const escalated = await eventually(async () => {
      const events = await auditEvents(hub.url, ADMIN_TOKEN, 'request.escalated');
      return countByRequest(events).size >= listed.length ? events : undefined;
    }, { what: 'every request to escalate' });
    console.log(`crash: escalations settled ${Date.now() - began} ms after the first kill`);
    const perRequest = countByRequest(escalated);
    for (const request of listed) expect(perRequest.get(request.id), request.id).toBe(1);
    expect(escalated).toHaveLength(listed.length);

    // Deadlines that fell due while the hub was down were fired once, after it came back.
    const dueAt = (request: GreenlightRequest) => Date.parse(request.createdAt) + 1000;
    const overdue = listed.flatMap((request) => {
      const down = downtimes.find((window) => dueAt(request) > window.from && dueAt(request) < window.to);
      return down ? [{ request, down }] : [];
    });
    console.log(`crash: ${overdue.length} escalation deadlines fell due while the hub was down`);
    expect(overdue.length).toBeGreaterThan(0);
    for (const { request, down } of overdue) {
      const fired = escalated.filter((event) => event.requestId === request.id);
      expect(fired).toHaveLength(1);
      expect(Date.parse(fired[0]?.at ?? ''), request.id).toBeGreaterThanOrEqual(down.to);
    }

    // The requests agree: escalated to the leads, still pending.
    const sample = listed.slice(0, 50);
    for (const request of sample) {
      const current = await call<GreenlightRequest>(hub.url, 'GET', `/api/v1/requests/${request.id}`, token);
      expect(current.body.status).toBe('pending');
      expect(current.body.escalationLevel).toBe(1);
      expect(current.body.eligibleGroups).toContain('leads');
    }

    const chain = await call<{ ok: boolean; events: number }>(hub.url, 'GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(chain.body).toMatchObject({ ok: true });
  });
});
