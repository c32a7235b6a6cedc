import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import type { StateFinding } from './domain/state-check/compare.js';
import type { DelegationsTable } from './store/schema.js';
import { ADMIN_TOKEN, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre] }
`;

const HOUR = 3_600_000;
type Verify = { ok: boolean; kind?: string; findings?: (StateFinding & { delegation?: string })[] };
const pg = await postgresAvailability();

// A delegation lets its delegate decide as its delegator: a row written or changed by hand hands
// someone approval power no event gave them.
describe.each<DatabaseKind>(['sqlite', 'postgres'])('audit verify holds delegations against their events, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2026-12-22T09:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let bob: TestUser, carol: TestUser, erin: TestUser;
  const db = () => hub.hub.ctx.store.db;
  const verify = async () => (await hub.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body;
  const delegationFindings = (found: Verify, id: string) => (found.findings ?? []).filter((finding) => finding.table === 'delegations' && finding.delegation === id);
  const delegate = async (from: TestUser, to: string, hours: number) => {
    const created = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to, endsAt: new Date(clock.now().getTime() + hours * HOUR).toISOString(), reason: 'holiday' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  };
  /** Changes one delegation row, runs verify, and puts the row back. */
  const withRow = async (id: string, changes: Partial<DelegationsTable>) => {
    const original = await db().selectFrom('delegations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    await db().updateTable('delegations').set(changes).where('id', '=', id).execute();
    try {
      return delegationFindings(await verify(), id);
    } finally {
      await db().updateTable('delegations').set(original).where('id', '=', id).execute();
    }
  };

  beforeAll(async () => {
    await hub.start();
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
    erin = await hub.createUser('erin', ['approver'], ['sre']);
    await hub.createUser('mallory', ['approver']);
  });
  afterAll(() => hub.dispose());

  it('finds nothing in delegations created, ended early, run out, and ended by a disable', async () => {
    const ended = await delegate(bob, 'carol', 24);
    expect((await hub.api('DELETE', `/api/v1/delegations/${ended.id}`, carol.token)).status).toBe(200);
    await delegate(bob, 'carol', 1);
    await delegate(erin, 'bob', 48);
    clock.advance(2 * HOUR);
    await hub.hub.scheduler.runNow();
    expect((await hub.api('POST', '/api/v1/users/erin/disable', ADMIN_TOKEN)).status).toBe(200);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a delegation written by hand is named no_event; one deleted is named missing', async () => {
    const real = await delegate(bob, 'carol', 24);
    const row = await db().selectFrom('delegations').selectAll().where('id', '=', real.id).executeTakeFirstOrThrow();
    const mallory = await db().selectFrom('users').select('id').where('name', '=', 'mallory').executeTakeFirstOrThrow();
    await db().insertInto('delegations').values({ ...row, id: 'dlg_handmade', to_id: mallory.id, to_name: 'mallory' }).execute();
    try {
      expect(delegationFindings(await verify(), 'dlg_handmade')).toEqual([
        expect.objectContaining({ reason: 'no_event', table: 'delegations', requestId: null, problem: 'delegation dlg_handmade (bob to mallory) has no delegation.created event: it was written into the database by hand' }),
      ]);
    } finally {
      await db().deleteFrom('delegations').where('id', '=', 'dlg_handmade').execute();
    }
    await db().deleteFrom('delegations').where('id', '=', real.id).execute();
    try {
      expect(delegationFindings(await verify(), real.id)).toEqual([expect.objectContaining({ reason: 'state_missing', table: 'delegations', problem: expect.stringContaining(`delegation ${real.id} (bob to carol) has no row`) })]);
    } finally {
      await db().insertInto('delegations').values(row).execute();
    }
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a delegate, delegator, span, rules, reason or end changed by hand is named with both values', async () => {
    const real = await delegate(bob, 'carol', 24);
    const mallory = await db().selectFrom('users').select('id').where('name', '=', 'mallory').executeTakeFirstOrThrow();
    const row = await db().selectFrom('delegations').selectAll().where('id', '=', real.id).executeTakeFirstOrThrow();
    const field = (name: string, state: string | null, log: string | null) =>
      expect.objectContaining({ reason: 'state_disagrees', table: 'delegations', delegation: real.id, field: name, state, log, problem: `delegation ${real.id}: ${name} is ${state === null ? 'nothing' : `"${state}"`} but its audit events say ${log === null ? 'nothing' : `"${log}"`}` });

    expect(await withRow(real.id, { to_id: mallory.id, to_name: 'mallory' })).toEqual([field('to_name', 'mallory', 'carol'), field('to_id', 'mallory', 'carol')]);
    // The id alone: the delegate the hub acts on is the user of that id.
    expect(await withRow(real.id, { to_id: mallory.id })).toEqual([field('to_id', 'mallory', 'carol')]);
    expect(await withRow(real.id, { from_name: 'erin' })).toEqual([field('from_name', 'erin', 'bob')]);
    expect(await withRow(real.id, { ends_at: '2027-06-01T00:00:00.000Z' })).toEqual([field('ends_at', '2027-06-01T00:00:00.000Z', row.ends_at)]);
    expect(await withRow(real.id, { rules: '["prod"]' })).toEqual([field('rules', '["prod"]', null)]);
    expect(await withRow(real.id, { reason: 'covering' })).toEqual([field('reason', 'covering', 'holiday')]);

    expect((await hub.api('DELETE', `/api/v1/delegations/${real.id}`, bob.token)).status).toBe(200);
    const ended = await db().selectFrom('delegations').select(['ended_at', 'ended_by']).where('id', '=', real.id).executeTakeFirstOrThrow();
    expect(await withRow(real.id, { ended_at: null, ended_by: null })).toEqual([field('ended_at', null, ended.ended_at), field('ended_by', null, 'bob')]);
    expect(await verify()).toMatchObject({ ok: true });
  });
});
