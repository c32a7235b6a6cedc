import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { capturedLog } from './test-support/captured-log.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
`;
const MINUTE = 60_000;

interface Warning {
  level: number;
  msg: string;
  deadline?: string;
  kind?: string;
  retryAt?: string;
}

const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('a deadline that fails every time it is applied, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2030-01-01T09:00:00.000Z');
  const log = capturedLog<Warning>();
  const hub = new TestHub(kind, { policy: POLICY, clock, logger: log.logger });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    await hub.createUser('lena', ['lead'], ['leads']);
  });
  afterAll(() => hub.dispose());

  const submit = async () => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;
  const escalationOf = async (requestId: string) =>
    hub.hub.ctx.store.db.selectFrom('deadlines').select(['id', 'due_at', 'done']).where('request_id', '=', requestId).where('kind', '=', 'escalation').executeTakeFirstOrThrow();
  const ruleOf = async (requestId: string) => (await hub.hub.ctx.store.db.selectFrom('requests').select('rule').where('id', '=', requestId).executeTakeFirstOrThrow()).rule;

  it('is moved later, further each time, while those due after it are applied; it stays open', async () => {
    const damaged = await submit();
    clock.advance(MINUTE);
    const later = await submit();
    const failing = await escalationOf(damaged.id);
    const sound = await ruleOf(damaged.id);
    // A damaged row: applying its escalation throws when it reads the request.
    await hub.hub.ctx.store.db.updateTable('requests').set({ rule: '{not json' }).where('id', '=', damaged.id).execute();

    clock.advance(5 * MINUTE);
    await hub.hub.scheduler.runNow();

    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${later.id}`, alice.token)).body.escalationLevel).toBe(1);
    expect(Number((await escalationOf(later.id)).done)).toBe(1);
    const moved = await escalationOf(damaged.id);
    expect(Number(moved.done)).toBe(0);
    expect(moved.due_at).toBe(new Date(clock.now().getTime() + 1000).toISOString());
    expect(log.warnings()).toContainEqual(expect.objectContaining({ msg: 'applying a deadline failed; it is retried later', deadline: failing.id, kind: 'escalation', retryAt: moved.due_at }));

    // Due again, it fails again: moved twice as far, still open, still not dropped.
    clock.advance(1000);
    await hub.hub.scheduler.runNow();
    const again = await escalationOf(damaged.id);
    expect(Number(again.done)).toBe(0);
    expect(again.due_at).toBe(new Date(clock.now().getTime() + 2000).toISOString());

    // Once the row is sound again, the next retry applies it.
    await hub.hub.ctx.store.db.updateTable('requests').set({ rule: sound }).where('id', '=', damaged.id).execute();
    clock.advance(2000);
    await hub.hub.scheduler.runNow();
    expect(Number((await escalationOf(damaged.id)).done)).toBe(1);
    const escalated = await hub.api<{ events: { requestId: string }[] }>('GET', '/api/v1/audit?type=request.escalated', ADMIN_TOKEN);
    expect(escalated.body.events.map((event) => event.requestId).sort()).toEqual([damaged.id, later.id].sort());
  });

  it('when every deadline fails, the fault is not theirs: a few are moved, then it pauses, and all fire once the fault clears', async () => {
    const requests = [];
    for (let i = 0; i < 5; i++) requests.push(await submit());
    const sound = await ruleOf(requests[0]!.id);
    const dueAt = (await escalationOf(requests[0]!.id)).due_at;
    for (const request of requests) await hub.hub.ctx.store.db.updateTable('requests').set({ rule: '{not json' }).where('id', '=', request.id).execute();

    clock.advance(5 * MINUTE);
    await hub.hub.scheduler.runNow();
    const after = await Promise.all(requests.map((request) => escalationOf(request.id)));
    expect(after.map((deadline) => Number(deadline.done))).toEqual([0, 0, 0, 0, 0]);
    // Three moved a second later; the other two keep their time, so nothing is pushed far off.
    expect(after.filter((deadline) => deadline.due_at !== dueAt).map((deadline) => deadline.due_at)).toEqual(Array(3).fill(new Date(clock.now().getTime() + 1000).toISOString()));

    for (const request of requests) await hub.hub.ctx.store.db.updateTable('requests').set({ rule: sound }).where('id', '=', request.id).execute();
    clock.advance(1000);
    await hub.hub.scheduler.runNow();
    expect((await Promise.all(requests.map((request) => escalationOf(request.id)))).map((deadline) => Number(deadline.done))).toEqual([1, 1, 1, 1, 1]);
  });

  it("a delegation's end that names no delegation (a damaged row) is left alone, and escalations still fire", async () => {
    await hub.hub.ctx.store.db
      .insertInto('deadlines')
      .values({ id: 'ddl_damaged_end', kind: 'delegation_end', request_id: '', grant_jti: null, delegation_id: null, step: null, due_at: clock.now().toISOString(), done: 0 })
      .execute();
    const request = await submit();

    clock.advance(5 * MINUTE);
    await hub.hub.scheduler.runNow();

    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body.escalationLevel).toBe(1);
    const damaged = await hub.hub.ctx.store.db.selectFrom('deadlines').select('done').where('id', '=', 'ddl_damaged_end').executeTakeFirstOrThrow();
    expect(Number(damaged.done)).toBe(0);
  });
});
