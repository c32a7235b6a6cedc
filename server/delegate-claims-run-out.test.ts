import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { postgresAvailability } from './test-support/postgres.js';
import { ADMIN_TOKEN, collect, deployRequest, startOnOneDatabase, TestHub, type TestUser } from './test-support/hub-fixture.js';

// Claims hold longer than the delegations below run, so only the delegation running out can release them.
const POLICY = `
rules:
  - name: prod-deploy
    match: { action: deploy }
    approvers: [sre]
    claimHolds: 4h
    escalation:
      - { after: 8h, notify: [leads] }
  - name: db-migrate
    match: { action: migrate }
    approvers: [dba]
    claimHolds: 4h
  - name: net-change
    match: { action: reroute }
    approvers: [netops]
    claimHolds: 4h
`;

const pg = await postgresAvailability();
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const releases = (request: GreenlightRequest) => request.timeline.filter((entry) => entry.type === 'request.released');

/** One hub's (or several hubs') users and the calls the tests below make. */
function scene(hub: TestHub, clock: ManualClock) {
  const users: Record<string, TestUser> = {};
  return {
    users,
    async people(): Promise<void> {
      users.alice = await hub.createUser('alice', ['requester']);
      users.sam = await hub.createUser('sam', ['approver'], ['sre']);
      users.omar = await hub.createUser('omar', ['approver'], ['sre']);
      // Dana approves database changes in her own right; prod deploys only for whoever she stands in for.
      users.dana = await hub.createUser('dana', ['approver'], ['dba']);
    },
    async delegateToDana(from: TestUser, forMs: number): Promise<Delegation> {
      const endsAt = new Date(clock.now().getTime() + forMs).toISOString();
      const created = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to: 'dana', endsAt, reason: 'on leave' });
      expect(created.status).toBe(201);
      return created.body;
    },
    async claimedByDana(action: 'deploy' | 'migrate' | 'reroute', on: TestHub = hub): Promise<string> {
      const request = (await on.api<GreenlightRequest>('POST', '/api/v1/requests', users.alice!.token, deployRequest({ action }))).body;
      const claimed = await on.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/claim`, users.dana!.token);
      expect(claimed.body.claim?.by).toBe('dana');
      return request.id;
    },
    async current(id: string, on: TestHub = hub): Promise<GreenlightRequest> {
      return (await on.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body;
    },
    /** Whether the delegation's `delegation_end` deadline is still open. */
    async endStillOpen(delegation: Delegation): Promise<boolean> {
      const row = await hub.hub.ctx.store.db.selectFrom('deadlines').select('done').where('delegation_id', '=', delegation.id).executeTakeFirstOrThrow();
      return Number(row.done) === 0;
    },
  };
}

// A delegate claims a request for the approver they stand in for. When the delegation simply runs out,
// the claim backs nobody's decision any more, yet would show the request as taken, and hold escalation
// back, until the rule's claimHolds lapsed.
describe("a delegate's claim once the delegation it was made under runs out", () => {
  const clock = new ManualClock(new Date('2026-12-07T09:00:00Z'));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  const { users, delegateToDana, claimedByDana, current, people, endStillOpen } = scene(hub, clock);

  beforeAll(async () => {
    await hub.start();
    await people();
  });
  afterAll(() => hub.dispose());

  it('is released when the delegation ends, the history says why, and the other approvers see it at once', async () => {
    await delegateToDana(users.sam!, HOUR);
    clock.advance(50 * MINUTE);
    const forSam = await claimedByDana('deploy');
    // As an approver in her own right, her claim has nothing to do with the delegation.
    const ofHerOwn = await claimedByDana('migrate');
    const omarClient = await hub.connect(users.omar!);
    const omarHears = collect<GreenlightRequest>((listener) => omarClient.on('request:updated', listener));

    clock.advance(10 * MINUTE);
    await hub.hub.scheduler.runNow();

    const after = await current(forSam);
    expect(after.claim).toBeNull();
    expect(releases(after).map((entry) => entry.detail)).toEqual([expect.stringContaining('the delegation from sam to dana ran out: dana can no longer decide it for sam')]);
    const heard = await omarHears.next((request) => request.id === forSam && request.claim === null);
    expect(heard.timeline.some((entry) => entry.type === 'request.released')).toBe(true);
    // Omar may claim it now.
    expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${forSam}/claim`, users.omar!.token)).body.claim?.by).toBe('omar');

    const own = await current(ofHerOwn);
    expect(own.claim?.by).toBe('dana');
    expect(releases(own)).toEqual([]);
  });

  it('stays while another delegation from the same approver still lets the delegate decide it', async () => {
    const sue = await hub.createUser('sue', ['approver'], ['sre']);
    const shorter = await delegateToDana(sue, HOUR);
    await delegateToDana(sue, 3 * HOUR);
    const id = await claimedByDana('deploy');

    clock.advance(HOUR);
    await hub.hub.scheduler.runNow();

    expect((await hub.api<{ delegations: Delegation[] }>('GET', '/api/v1/delegations', ADMIN_TOKEN)).body.delegations.find((d) => d.id === shorter.id)?.active).toBe(false);
    const after = await current(id);
    expect(after.claim?.by).toBe('dana');
    expect(releases(after)).toEqual([]);
  });

  it('closes its end when it is ended early, or its delegator disabled, so no deadline waits on it', async () => {
    const wes = await hub.createUser('wes', ['approver'], ['sre']);
    const xia = await hub.createUser('xia', ['approver'], ['sre']);
    const fromWes = await delegateToDana(wes, HOUR);
    const fromXia = await delegateToDana(xia, HOUR);
    expect([await endStillOpen(fromWes), await endStillOpen(fromXia)]).toEqual([true, true]);

    expect((await hub.api('DELETE', `/api/v1/delegations/${fromWes.id}`, wes.token)).status).toBe(200);
    expect((await hub.api('POST', '/api/v1/users/xia/disable', ADMIN_TOKEN)).status).toBe(200);

    expect([await endStillOpen(fromWes), await endStillOpen(fromXia)]).toEqual([false, false]);
  });

  it('is released when the hub starts again, if the delegation ran out while it was down', async () => {
    const tia = await hub.createUser('tia', ['approver'], ['sre']);
    await delegateToDana(tia, HOUR);
    const id = await claimedByDana('deploy');
    await hub.stop();

    clock.advance(2 * HOUR);
    await hub.start();

    const after = await current(id);
    expect(after.claim).toBeNull();
    expect(releases(after).map((entry) => entry.detail)).toEqual([expect.stringContaining('dana can no longer decide it for tia')]);
  });

  it('is pushed to the delegate, whose app showed the request as claimed by her', async () => {
    // A change of network routes: only Vic's delegation lets Dana decide it.
    const vic = await hub.createUser('vic', ['approver'], ['netops']);
    await delegateToDana(vic, HOUR);
    const id = await claimedByDana('reroute');
    const danaClient = await hub.connect(users.dana!);
    const danaHears = collect<GreenlightRequest>((listener) => danaClient.on('request:updated', listener));

    clock.advance(HOUR);
    await hub.hub.scheduler.runNow();

    const heard = await danaHears.next((request) => request.id === id && request.claim === null);
    expect(releases(heard).map((entry) => entry.detail)).toEqual([expect.stringContaining('the delegation from vic to dana ran out')]);
  });
});

// Claims a delegate made for another delegator (data from before delegations' ends were kept) are
// that other delegation's to release, with its delegator named as the reason.
describe("a delegate's claims once one of several delegations to her runs out", () => {
  const clock = new ManualClock(new Date('2026-12-07T09:00:00Z'));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  const { users, delegateToDana, claimedByDana, current, people } = scene(hub, clock);

  beforeAll(async () => {
    await hub.start();
    await people();
  });
  afterAll(() => hub.dispose());

  it('releases only those the delegation that ran out could have backed', async () => {
    const nia = await hub.createUser('nia', ['approver'], ['netops']);
    const fromSam = await delegateToDana(users.sam!, HOUR);
    await delegateToDana(nia, 2 * HOUR);
    const forSam = await claimedByDana('deploy');
    const forNia = await claimedByDana('reroute');
    // Sam's delegation ran out before its end was kept (or applying it failed, and it is retried
    // later): by the time Nia's runs out, Dana's claim for Sam still stands, backed by nothing.
    const samsEndAt = new Date(clock.now().getTime() + 3 * HOUR).toISOString();
    await hub.hub.ctx.store.db.updateTable('deadlines').set({ due_at: samsEndAt }).where('delegation_id', '=', fromSam.id).execute();

    clock.advance(2 * HOUR);
    await hub.hub.scheduler.runNow();

    expect(releases(await current(forNia)).map((entry) => entry.detail)).toEqual([expect.stringContaining('dana can no longer decide it for nia')]);
    const stillClaimed = await current(forSam);
    expect(stillClaimed.claim?.by).toBe('dana');
    expect(releases(stillClaimed)).toEqual([]);

    clock.advance(HOUR);
    await hub.hub.scheduler.runNow();

    expect(releases(await current(forSam)).map((entry) => entry.detail)).toEqual([expect.stringContaining('the delegation from sam to dana ran out: dana can no longer decide it for sam')]);
  });
});

describe.skipIf(!pg.ok)(`a delegate's claim once the delegation runs out, with two hubs on PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const clock = new ManualClock(new Date('2026-12-07T09:00:00Z'));
  const hubA = new TestHub('postgres', { policy: POLICY, clock });
  const hubB = new TestHub('postgres', { policy: POLICY, clock });
  const { users, delegateToDana, claimedByDana, current, people } = scene(hubA, clock);

  beforeAll(async () => {
    await startOnOneDatabase(hubA, hubB);
    await people();
  });
  afterAll(async () => {
    await hubB.dispose();
    await hubA.dispose();
  });

  it('is released once, by one of them, and the other hub pushes it to its own approvers', async () => {
    await delegateToDana(users.sam!, HOUR);
    const id = await claimedByDana('deploy', hubB);
    const omarOnA = await hubA.connect(users.omar!);
    const omarHears = collect<GreenlightRequest>((listener) => omarOnA.on('request:updated', listener));

    clock.advance(HOUR);
    await Promise.all([hubA.hub.scheduler.runNow(), hubB.hub.scheduler.runNow()]);

    const after = await current(id, hubB);
    expect(after.claim).toBeNull();
    expect(releases(after).map((entry) => entry.detail)).toEqual([expect.stringContaining('dana can no longer decide it for sam')]);
    await omarHears.next((request) => request.id === id && request.claim === null);
  });
});
