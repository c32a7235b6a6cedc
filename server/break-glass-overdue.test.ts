import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditPage, GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 10m, notify: [security-leads] }
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 1h, reviewers: [security] }
  - name: prod-queue
    match: { action: drain }
    approvers: [sre]
    escalation:
      - { after: 10m, notify: [lena] }
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [security] }
  - name: prod-cache
    match: { action: flush }
    approvers: [sre]
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 1h, reviewers: [security] }
`;

type ErrorBody = { error: { code: string; message: string } };
const HOUR = 3_600_000;
const REASON = 'database is down, customers cannot pay';

describe('an unreviewed break-glass escalates after 24 h', () => {
  const clock = new ManualClock(new Date('2026-12-03T03:00:00Z'));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let dave: TestUser, sue: TestUser, lena: TestUser;

  beforeAll(async () => {
    await hub.start();
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    await hub.createUser('bob', ['approver'], ['sre']);
    sue = await hub.createUser('sue', ['approver'], ['security']);
    lena = await hub.createUser('lena', ['lead'], ['security-leads']);
  });
  afterAll(() => hub.dispose());

  const breakGlass = (action: string) =>
    hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', dave.token, deployRequest({ action, reason: REASON, breakGlass: { incident: 'INC-4412' } }));
  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };

  it('marks it overdue, tells the escalation groups (else the reviewers again), audits it, and keeps the next break-glass refused', async () => {
    const lenaClient = await hub.connect(lena);
    const sueClient = await hub.connect(sue);
    const lenaHears = collect<GreenlightRequest>((listener) => lenaClient.on('request:updated', listener));
    const sueHears = collect<GreenlightRequest>((listener) => sueClient.on('request:updated', listener));
    const withEscalation = await breakGlass('deploy');
    const withoutEscalation = await breakGlass('flush');
    expect([withEscalation.status, withoutEscalation.status]).toEqual([201, 201]);

    await advance(23 * HOUR);
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${withEscalation.body.id}`, sue.token)).body.breakGlass?.review).toBe('open');

    await advance(1 * HOUR);
    // Each hears it as the overdue use it now is; Sue heard of the use before, Lena not.
    expect((await lenaHears.next((r) => r.id === withEscalation.body.id)).breakGlass?.review).toBe('overdue');
    expect((await sueHears.next((r) => r.id === withoutEscalation.body.id && r.breakGlass?.review === 'overdue')).timeline.at(-1)?.type).toBe('request.review_overdue');
    const seenByLena = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${withEscalation.body.id}`, lena.token);
    expect(seenByLena.status).toBe(200);
    expect(seenByLena.body.breakGlass?.review).toBe('overdue');

    const overdue = (await hub.api<AuditPage>('GET', '/api/v1/audit?type=request.review_overdue', ADMIN_TOKEN)).body.events;
    expect(overdue.map((event) => [event.requestId, event.data.notified]).sort()).toEqual(
      [
        [withEscalation.body.id, ['security-leads']],
        [withoutEscalation.body.id, ['security']],
      ].sort(),
    );

    const next = await breakGlass('deploy');
    expect(next.body.error.code).toBe('BREAK_GLASS_REVIEW_PENDING');

    // Reviewing an overdue use still closes it.
    const ratified = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${withEscalation.body.id}/review`, sue.token, { outcome: 'ratified', comment: 'checked with the incident lead' });
    expect(ratified.body.breakGlass?.review).toBe('ratified');
  });

  it('reaches a lead the escalation names as a person, not as a group of that name', async () => {
    const olga = await hub.createUser('olga', ['requester'], ['oncall']);
    const lenaClient = await hub.connect(lena);
    const lenaHears = collect<GreenlightRequest>((listener) => lenaClient.on('request:updated', listener));
    const used = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', olga.token, deployRequest({ action: 'drain', reason: REASON, breakGlass: { incident: 'INC-4415' } }));
    expect(used.status).toBe(201);
    await advance(24 * HOUR);
    const heard = await lenaHears.next((r) => r.id === used.body.id);
    expect(heard.breakGlass?.review).toBe('overdue');
    expect(heard.eligibleUsers).toContain('lena');
    expect(heard.eligibleGroups).not.toContain('lena');
  });
});
