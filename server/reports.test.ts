import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionReport, GreenlightRequest, RuleDecisionStats } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
    expireAfter: 1h
  - name: db
    match: { action: db-open }
    approvers: [sre]
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`;

const SECOND = 1_000;
type ErrorBody = { error: { code: string; message: string } };

const pg = await postgresAvailability();

/**
 * Fixture data with known durations, made by moving the hub's clock:
 * - prod (from 09:00): decided after 60 s, 120 s, 180 s and 600 s (escalated at 5 min, then denied),
 *   one left to expire at 1 h (escalated too), one cancelled, one still pending: 7 submitted.
 * - db: decided after 30 s and 90 s (09:00), plus one at 08:00 decided after 10 s, before the range asked for.
 * - staging: 2 approved by the policy at once.
 */
describe.each<DatabaseKind>(['sqlite', 'postgres'])('time to decision per rule on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2030-01-01T08:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, bob: TestUser;

  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const submit = async (body: unknown) => {
    const { status, body: request } = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, body);
    expect(status).toBe(201);
    return request;
  };
  const decide = async (id: string, decision: 'approve' | 'deny') => {
    const { status } = await hub.api('POST', `/api/v1/requests/${id}/decisions`, bob.token, { decision, comment: 'checked' });
    expect(status).toBe(200);
  };
  const report = (query = '', token = ADMIN_TOKEN) => hub.api<DecisionReport & ErrorBody>('GET', `/api/v1/reports/decisions${query}`, token);
  const ruleOf = (body: DecisionReport, name: string): RuleDecisionStats | undefined => body.rules.find((rule) => rule.rule === name);

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('lena', ['lead'], ['leads']);
    const db = (reason: string) => ({ action: 'db-open', resource: 'ledger-db', environment: 'production', reason, risk: 'medium' });

    const early = await submit(db('before the range'));
    await advance(10 * SECOND);
    await decide(early.id, 'approve');
    clock.set('2030-01-01T09:00:00.000Z');

    const prod = [];
    for (let i = 0; i < 5; i++) prod.push(await submit(deployRequest({ reason: `prod ${i}` })));
    const dbs = [await submit(db('one')), await submit(db('two'))];
    await submit(deployRequest({ environment: 'staging', reason: 'auto one' }));
    await submit(deployRequest({ environment: 'staging', reason: 'auto two' }));
    const [p60, p120, p180, p600, expiring] = prod as [GreenlightRequest, GreenlightRequest, GreenlightRequest, GreenlightRequest, GreenlightRequest];

    await advance(30 * SECOND);
    await decide(dbs[0]!.id, 'approve'); // 30 s
    await advance(30 * SECOND);
    await decide(p60.id, 'approve'); // 60 s
    await advance(30 * SECOND);
    await decide(dbs[1]!.id, 'deny'); // 90 s
    await advance(30 * SECOND);
    await decide(p120.id, 'approve'); // 120 s
    await advance(60 * SECOND);
    await decide(p180.id, 'approve'); // 180 s
    await advance(420 * SECOND); // 600 s: the 5-minute escalation fired on the way
    await decide(p600.id, 'deny');
    await advance(3_000 * SECOND); // 3600 s: the last one expires
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${expiring.id}`, alice.token)).body.status).toBe('expired');

    const cancelled = await submit(deployRequest({ reason: 'never mind' }));
    await advance(30 * SECOND);
    expect((await hub.api('POST', `/api/v1/requests/${cancelled.id}/cancel`, alice.token, {})).status).toBe(200);
    clock.set('2030-01-01T11:00:00.000Z');
    await submit(deployRequest({ reason: 'still waiting' }));
  });
  afterAll(() => hub.dispose());

  it('gives each rule its median and 95th percentile time to decision and the shares escalated, expired and auto-approved', async () => {
    const { status, body } = await report('?from=2030-01-01T09:00:00Z&to=2030-01-02T00:00:00Z');
    expect(status).toBe(200);
    expect(body.from).toBe('2030-01-01T09:00:00.000Z');
    expect(body.to).toBe('2030-01-02T00:00:00.000Z');
    expect(body.rules.map((rule) => rule.rule)).toEqual(['prod', 'db', 'staging']);
    expect(ruleOf(body, 'prod')).toEqual({
      rule: 'prod',
      submitted: 7,
      decided: 4,
      approved: 3,
      denied: 1,
      autoApproved: 0,
      expired: 1,
      cancelled: 1,
      pending: 1,
      escalated: 2,
      // 60, 120, 180, 600 s: halfway between 120 and 180; 85% of the way from 180 to 600.
      medianSeconds: 150,
      p95Seconds: 537,
      escalatedShare: 2 / 7,
      expiredShare: 1 / 7,
      autoApprovedShare: 0,
    });
    expect(ruleOf(body, 'db')).toMatchObject({ submitted: 2, decided: 2, approved: 1, denied: 1, medianSeconds: 60, p95Seconds: 87, escalatedShare: 0 });
    expect(ruleOf(body, 'staging')).toMatchObject({ submitted: 2, decided: 0, autoApproved: 2, autoApprovedShare: 1, medianSeconds: null, p95Seconds: null });
  });

  it('counts only requests submitted in the range, [from, to)', async () => {
    const before = (await report('?from=2030-01-01T07:00:00Z&to=2030-01-01T09:00:00Z')).body;
    expect(before.rules).toEqual([expect.objectContaining({ rule: 'db', submitted: 1, decided: 1, medianSeconds: 10, p95Seconds: 10 })]);
    const withoutLast = (await report('?from=2030-01-01T09:00:00Z&to=2030-01-01T11:00:00Z')).body;
    expect(ruleOf(withoutLast, 'prod')).toMatchObject({ submitted: 6, pending: 0 });
    expect((await report('?from=2031-01-01T00:00:00Z&to=2031-01-02T00:00:00Z')).body.rules).toEqual([]);
  });

  it('defaults to the 30 days up to the hub clock', async () => {
    const { body } = await report();
    expect(body.to).toBe('2030-01-01T11:00:00.000Z');
    expect(body.from).toBe('2029-12-02T11:00:00.000Z');
    // The early db request is in the default range: three durations now, 10, 30 and 90 s.
    expect(ruleOf(body, 'db')).toMatchObject({ submitted: 3, medianSeconds: 30, p95Seconds: 84 });
  });

  it('is for admins, and refuses a range it cannot answer with a message that says what to change', async () => {
    expect((await report('', bob.token)).body.error.code).toBe('FORBIDDEN');
    expect((await hub.api<ErrorBody>('GET', '/api/v1/reports/decisions', null)).status).toBe(401);
    const cases: [string, RegExp][] = [
      ['?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', /from.*before.*to.*swap/],
      ['?from=yesterday', /from.*ISO-8601/],
      // Dates Date.parse would guess at rather than refuse: "0" as 2000-01-01, Feb 30 as Mar 2.
      ['?to=0', /to.*ISO-8601/],
      ['?to=12', /to.*ISO-8601/],
      ['?from=2030-02-30', /from.*ISO-8601/],
      ['?from=Dec%2025%202030', /from.*ISO-8601/],
      ['?from=1%2F2%2F2030', /from.*ISO-8601/],
      ['?from=2028-01-01T00:00:00Z&to=2030-01-01T00:00:00Z', /at most 366 days/],
      ['?since=30d', /since/],
      // Completed with the hub's clock (11:00): a "from" alone still has to leave a range it can answer.
      ['?from=2030-01-01T12:00:00Z', /from.*before to/],
      ['?from=2028-01-01T00:00:00Z', /at most 366 days/],
    ];
    for (const [query, message] of cases) {
      const { status, body } = await report(query);
      expect(status, query).toBe(400);
      expect(body.error.code).toBe('INVALID_INPUT');
      expect(body.error.message).toMatch(message);
    }
  });
});
