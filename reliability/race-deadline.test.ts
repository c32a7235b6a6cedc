import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, DecisionKind, GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from '../server/clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../server/test-support/hub-fixture.js';
import { type ErrorBody } from './support.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    minApprovals: 1
    escalation:
      - { after: 5m, notify: [leads] }
      - { after: 10m, notify: [managers] }
`;

const TRIALS = 200;
const MINUTE = 60_000;
const DECIDED = new Set(['request.approved', 'request.denied']);
/** Negative: the decision is sent that much later; null: only once the escalation has been applied (so each order happens on any machine). */
const OFFSETS_MS: (number | null)[] = [null, -16, -4, -1, 0, 1, 2, 4, 8, 16, 32, 64];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a decision racing the escalation deadline', () => {
  const clock = new ManualClock('2030-01-01T09:00:00.000Z');
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let alice: TestUser, bob: TestUser, lena: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    lena = await hub.createUser('lena', ['lead'], ['leads']);
    await hub.createUser('max', ['lead'], ['managers']);
  });
  afterAll(() => hub.dispose());

  const decide = (user: TestUser, id: string, decision: DecisionKind) =>
    hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision });
  /** Moves past the deadline and lets the scheduler apply whatever fell due. */
  const passDeadline = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const eventsOf = async (id: string): Promise<AuditEvent[]> => {
    const reply = await hub.api<{ events: AuditEvent[] }>('GET', `/api/v1/audit?q=${id}&limit=1000`, ADMIN_TOKEN);
    return reply.body.events.filter((event) => event.requestId === id).sort((a, b) => a.seq - b.seq);
  };

  it(`in ${TRIALS} trials each request ends one consistent way: decided, escalated before it, never after`, async () => {
    const seen = { decidedFirst: 0, escalatedFirst: 0, leadInTime: 0, leadTooEarly: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
      const submitted = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason: `deadline race ${trial}` }));
      const id = submitted.body.id;
      // Odd trials: the lead, who may decide only once the escalation lands. Even: a regular approver.
      const decider = trial % 2 ? lena : bob;
      const decision: DecisionKind = trial % 3 ? 'approve' : 'deny';
      // The deadline passes somewhere between well before the decision reaches the hub (a negative
      // offset sends the decision later) and after it commits. Each decider meets every offset; the
      // spread is wide enough that both orders happen on a fast machine and on a loaded one.
      const offsetMs = OFFSETS_MS[Math.floor(trial / 2) % OFFSETS_MS.length] ?? null;
      const deadlinePassed = offsetMs === null ? passDeadline(5 * MINUTE) : null;
      const [reply] = await Promise.all([
        (async () => {
          if (deadlinePassed) await deadlinePassed;
          else if (offsetMs !== null && offsetMs < 0) await sleep(-offsetMs);
          return decide(decider, id, decision);
        })(),
        (async () => {
          if (deadlinePassed) return;
          if (offsetMs !== null && offsetMs > 0) await sleep(offsetMs);
          await passDeadline(5 * MINUTE);
        })(),
      ]);

      if (reply.status !== 200) {
        // Only the lead can be refused, and only because the escalation had not landed yet.
        expect(decider).toBe(lena);
        expect(reply.body.error.code).toBe('NOT_ELIGIBLE');
        seen.leadTooEarly++;
        const escalatedAfter = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token);
        expect(escalatedAfter.body.status).toBe('pending');
        expect(escalatedAfter.body.escalationLevel).toBe(1);
        expect((await decide(bob, id, decision)).status).toBe(200);
      }
      // Well past every later step: a decided request must never escalate again.
      await passDeadline(15 * MINUTE);

      const final = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token);
      const expectedStatus = decision === 'approve' ? 'approved' : 'denied';
      expect(final.body.status).toBe(expectedStatus);
      const events = await eventsOf(id);
      const types = events.map((event) => event.type);
      const decidedAt = types.findIndex((type) => DECIDED.has(type));
      expect(types.filter((type) => DECIDED.has(type))).toEqual([`request.${expectedStatus}`]);
      const escalations = events.filter((event) => event.type === 'request.escalated');
      expect(escalations.every((event) => events.indexOf(event) < decidedAt), `trial ${trial}: ${types.join(', ')}`).toBe(true);
      const steps = escalations.map((event) => event.data.step);
      expect(new Set(steps).size).toBe(steps.length);
      expect(steps.length).toBeLessThanOrEqual(1);
      // The request's own view says the same as its audit trail.
      expect(final.body.escalationLevel).toBe(escalations.length);
      expect(final.body.timeline.filter((entry) => entry.type === 'request.escalated')).toHaveLength(escalations.length);
      expect(final.body.timeline.filter((entry) => DECIDED.has(entry.type)).map((entry) => entry.type)).toEqual([`request.${expectedStatus}`]);
      if (decider === lena) {
        // The lead's decision always comes after an escalation; whether it came in time is the race.
        expect(escalations).toHaveLength(1);
        if (reply.status === 200) seen.leadInTime++;
      } else if (escalations.length) seen.escalatedFirst++;
      else seen.decidedFirst++;
    }
    console.log(`deadline race: ${JSON.stringify(seen)}`);
    // Both orders happened for the regular approver, and the lead both won and lost, so the race was real.
    expect(seen.decidedFirst).toBeGreaterThan(0);
    expect(seen.escalatedFirst).toBeGreaterThan(0);
    expect(seen.leadInTime).toBeGreaterThan(0);
    expect(seen.leadTooEarly).toBeGreaterThan(0);

    const chain = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(chain.body).toMatchObject({ ok: true });
  });
});
