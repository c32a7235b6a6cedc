import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { cli } from './cli/cli-harness.js';
import { audit, inTransaction } from './domain/context.js';
import type { StateFinding } from './domain/state-check/compare.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    grantTtl: 30m
    expireAfter: 1h
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 4h, reviewers: [security] }
    extensions: { autoApprove: 1, maxTotal: 3h }
  - { name: migrate, match: { action: migrate }, approvers: [sre], minApprovals: 2 }
  - { name: logs, match: { action: read-logs }, autoApprove: true }
`;

const MINUTE = 60_000;
type Verify = { ok: boolean; kind?: string; problem?: string; findings?: StateFinding[]; findingsTotal?: number; notes?: string[] };
type ErrorBody = { error: { code: string; message: string } };
const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('audit verify holds requests, votes and grants against the log, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2026-12-22T09:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, erin: TestUser, frank: TestUser;
  const db = () => hub.hub.ctx.store.db;
  const verify = async () => (await hub.api<Verify>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body;
  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const submit = async (user: TestUser, overrides: Record<string, unknown> = {}) => {
    const created = await hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, deployRequest(overrides));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  };
  const decide = async (user: TestUser, id: string, body: Record<string, unknown> = { decision: 'approve' }) => {
    const decided = await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, body);
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    return decided.body;
  };
  const tokenOf = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token)).body.grant!.token!;
  const redeem = (token: string) => hub.api<ErrorBody>('POST', '/api/v1/grants/redeem', null, { token });
  /** Runs `edit` on the database, checks what verify finds, then puts the database back as it was. */
  const editedThenRestored = async (edit: () => Promise<unknown>, restore: () => Promise<unknown>): Promise<Verify> => {
    await edit();
    try {
      return await verify();
    } finally {
      await restore();
    }
  };

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    erin = await hub.createUser('erin', ['approver'], ['sre']);
    frank = await hub.createUser('frank', ['approver'], ['sre']);
    await hub.createUser('sue', ['approver'], ['security']);
  });
  afterAll(() => hub.dispose());

  it('finds nothing in a busy history: votes, quorum, a delegate, break-glass, extensions, redeem, revoke, expiry, cancel, withdrawal', async () => {
    // Approved and redeemed; approved and left to expire by time; denied.
    const redeemed = await decide(bob, (await submit(alice)).id);
    expect((await redeem(await tokenOf(redeemed.id))).status).toBe(200);
    const unused = await decide(bob, (await submit(alice, { resource: 'unused' })).id);
    await decide(carol, (await submit(alice, { resource: 'denied' })).id, { decision: 'deny', comment: 'not now' });
    // Quorum of two; and a quorum vote withdrawn when its approver is disabled.
    const quorum = await submit(alice, { action: 'migrate' });
    await decide(bob, quorum.id);
    await decide(carol, quorum.id);
    const withdrawn = await submit(alice, { action: 'migrate', resource: 'withdrawn' });
    await decide(erin, withdrawn.id);
    expect((await hub.api('POST', '/api/v1/users/erin/disable', ADMIN_TOKEN)).status).toBe(200);
    // A delegate decides for bob.
    expect((await hub.api('POST', '/api/v1/delegations', bob.token, { to: 'carol', endsAt: new Date(clock.now().getTime() + 24 * 60 * MINUTE).toISOString(), reason: 'holiday' })).status).toBe(201);
    const delegated = await submit(alice, { action: 'migrate', resource: 'delegated' });
    await decide(carol, delegated.id, { decision: 'approve', onBehalfOf: 'bob' });
    await decide(frank, delegated.id);
    await decide(carol, (await submit(alice, { resource: 'delegate-denies' })).id, { decision: 'deny', onBehalfOf: 'bob' });
    // Policy approves at once; break-glass; cancelled; revoked; a pending request expires.
    await submit(alice, { action: 'read-logs' });
    await submit(dave, { reason: 'database is down, customers cannot pay', breakGlass: { incident: 'INC-1' } });
    expect((await hub.api('POST', `/api/v1/requests/${(await submit(alice, { resource: 'cancelled' })).id}/cancel`, alice.token, {})).status).toBe(200);
    const revoked = await decide(bob, (await submit(alice, { resource: 'revoked' })).id);
    expect((await hub.api('POST', `/api/v1/grants/${revoked.grant!.jti}/revoke`, bob.token)).status).toBe(200);
    await submit(alice, { resource: 'left-to-expire' });
    // An extension of the unused grant, approved by the rule at once, near its end.
    await advance(20 * MINUTE);
    expect((await hub.api('POST', `/api/v1/grants/${unused.grant!.jti}/extend`, alice.token, { ttlSeconds: 600, reason: 'running long' })).status).toBe(201);
    // Time passes: grants expire (audited by the scheduler), and the pending request.
    await advance(90 * MINUTE);
    // A grant that ran past its end while no scheduler fired it is still active in both row and log.
    const late = await decide(bob, (await submit(alice, { resource: 'late' })).id);
    clock.advance(45 * MINUTE);
    expect((await db().selectFrom('grants').select('status').where('jti', '=', late.grant!.jti).executeTakeFirstOrThrow()).status).toBe('active');

    const statuses = (await db().selectFrom('requests').select('status').execute()).map((row) => row.status);
    expect(new Set(statuses)).toEqual(new Set(['approved', 'denied', 'pending', 'cancelled', 'expired']));
    expect(await verify()).toMatchObject({ ok: true });
    await hub.hub.scheduler.runNow();
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a redeemed grant set back to active: verify names it, and the hub refuses a second redeem', async () => {
    const approved = await decide(bob, (await submit(alice, { resource: 'unredeem' })).id);
    const token = await tokenOf(approved.id);
    expect((await redeem(token)).status).toBe(200);
    const jti = approved.grant!.jti;
    await db().updateTable('grants').set({ status: 'active', redeemed_at: null }).where('jti', '=', jti).execute();
    const found = await verify();
    expect(found).toMatchObject({ ok: false, kind: 'state' });
    expect(found.findings).toEqual(expect.arrayContaining([expect.objectContaining({ reason: 'state_disagrees', table: 'grants', jti, field: 'status', state: 'active', log: 'redeemed' })]));
    const again = await redeem(token);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_REDEEMED');
    expect(again.body.error.message).toContain('the audit log records its redemption');
    await db().updateTable('grants').set({ status: 'redeemed', redeemed_at: clock.now().toISOString() }).where('jti', '=', jti).execute();
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('a grant a hub before 2026-12-03 ended again after a race (revoked after its redeem, revoked twice, expired after its revoke): verify passes, noting it; the first end stands', async () => {
    const used = await decide(bob, (await submit(alice, { resource: 'race-used' })).id);
    expect((await redeem(await tokenOf(used.id))).status).toBe(200);
    const revokedTwice = await decide(bob, (await submit(alice, { resource: 'race-revoked' })).id);
    expect((await hub.api('POST', `/api/v1/grants/${revokedTwice.grant!.jti}/revoke`, bob.token)).status).toBe(200);
    // What such a hub logged for the revoke or expiry whose update found the grant no longer active.
    const ctx = hub.hub.ctx;
    const lostRace = (actor: string, type: 'grant.revoked' | 'grant.expired', request: GreenlightRequest, data: Record<string, unknown>) =>
      inTransaction(ctx, (trx) => audit(ctx, trx, { actor, type, requestId: request.id, action: 'deploy', resource: request.resource, environment: 'production', outcome: type.slice('grant.'.length), data: { jti: request.grant!.jti, ...data } }));
    await lostRace('bob', 'grant.revoked', used, {});
    await lostRace('greenlight', 'grant.expired', used, { expiresAt: used.grant!.expiresAt, at: clock.now().toISOString() });
    await lostRace('alice', 'grant.revoked', revokedTwice, {});
    await lostRace('greenlight', 'grant.expired', revokedTwice, { expiresAt: revokedTwice.grant!.expiresAt, at: clock.now().toISOString() });

    const found = await verify();
    expect(found.findings ?? []).toEqual([]);
    expect(found).toMatchObject({ ok: true });
    expect(found.notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^grant ${used.grant!.jti}'s end was logged again .*\\(revoked at .*, then expired at .*\\); its first end, redeemed at .*, stands$`)),
        expect.stringMatching(new RegExp(`^grant ${revokedTwice.grant!.jti}'s end was logged again .*\\(revoked at .*, then expired at .*\\); its first end, revoked at .*, stands$`)),
      ]),
    );
    // The rows keep their first end: redeemed; revoked by bob, not alice.
    const rows = await db().selectFrom('grants').select(['jti', 'status', 'revoked_by']).where('jti', 'in', [used.grant!.jti, revokedTwice.grant!.jti]).orderBy('jti').execute();
    expect(new Map(rows.map((row) => [row.jti, [row.status, row.revoked_by]]))).toEqual(new Map([[used.grant!.jti, ['redeemed', null]], [revokedTwice.grant!.jti, ['revoked', 'bob']]]));
    if (kind === 'sqlite') {
      const offline = await cli(['audit', 'verify', '--data-dir', hub.dataDir]);
      expect(offline.code).toBe(0);
      expect(offline.stderr).toContain(`note: grant ${used.grant!.jti}'s end was logged again`);
    }
  });

  it('a grant the log records redeemed twice (as a hub before this check could) is named redeemed_twice', async () => {
    const approved = await decide(bob, (await submit(alice, { resource: 'twice' })).id);
    expect((await redeem(await tokenOf(approved.id))).status).toBe(200);
    const ctx = hub.hub.ctx;
    await inTransaction(ctx, (trx) => audit(ctx, trx, { actor: 'alice', type: 'grant.redeemed', requestId: approved.id, action: 'deploy', resource: 'twice', environment: 'production', outcome: 'redeemed', data: { jti: approved.grant!.jti } }));
    const found = await verify();
    expect(found).toMatchObject({ ok: false, kind: 'state', findingsTotal: 1 });
    expect(found.findings?.[0]).toMatchObject({ reason: 'redeemed_twice', jti: approved.grant!.jti, requestId: approved.id });
    // The log can't be undone: later tests look only at their own findings.
  });

  const findingsOf = (found: Verify, requestId: string) => (found.findings ?? []).filter((finding) => finding.requestId === requestId);

  it('a grant the log records redeemed after it was revoked is named ended_twice: no hub redeems a grant not active', async () => {
    const approved = await decide(bob, (await submit(alice, { resource: 'used-after-revoke' })).id);
    expect((await hub.api('POST', `/api/v1/grants/${approved.grant!.jti}/revoke`, bob.token)).status).toBe(200);
    const ctx = hub.hub.ctx;
    await inTransaction(ctx, (trx) => audit(ctx, trx, { actor: 'alice', type: 'grant.redeemed', requestId: approved.id, action: 'deploy', resource: 'used-after-revoke', environment: 'production', outcome: 'redeemed', data: { jti: approved.grant!.jti } }));
    expect(findingsOf(await verify(), approved.id)).toEqual([expect.objectContaining({ reason: 'ended_twice', jti: approved.grant!.jti, problem: expect.stringContaining('revoked at') })]);
  });

  it('a vote whose approver name, verdict or existence was edited disagrees with the votes in the log', async () => {
    const quorum = await submit(alice, { action: 'migrate', resource: 'votes' });
    await decide(bob, quorum.id);
    const votes = () => db().updateTable('decisions').where('request_id', '=', quorum.id);
    const renamed = await editedThenRestored(() => votes().set({ approver_name: 'carol' }).execute(), () => votes().set({ approver_name: 'bob' }).execute());
    expect(findingsOf(renamed, quorum.id)).toEqual([
      expect.objectContaining({ reason: 'no_event', table: 'decisions', approver: 'carol' }),
      expect.objectContaining({ reason: 'state_disagrees', table: 'decisions', approver: 'bob', state: null, log: 'approve' }),
    ]);
    const flipped = await editedThenRestored(() => votes().set({ decision: 'deny' }).execute(), () => votes().set({ decision: 'approve' }).execute());
    expect(findingsOf(flipped, quorum.id)).toEqual([expect.objectContaining({ reason: 'state_disagrees', approver: 'bob', state: 'deny', log: 'approve' })]);
    const forged = await editedThenRestored(
      () => db().insertInto('decisions').values({ request_id: quorum.id, approver_id: 'usr_forged', approver_name: 'mallory', decision: 'approve', comment: null, created_at: clock.now().toISOString(), lines: null, delegate_id: null, delegate_name: null }).execute(),
      () => db().deleteFrom('decisions').where('approver_id', '=', 'usr_forged').execute(),
    );
    expect(findingsOf(forged, quorum.id)).toEqual([expect.objectContaining({ reason: 'no_event', table: 'decisions', approver: 'mallory' })]);
  });

  it('a request whose status or decider was edited, or that no event submitted, is named', async () => {
    const denied = await decide(carol, (await submit(alice, { resource: 'status' })).id, { decision: 'deny' });
    const row = () => db().updateTable('requests').where('id', '=', denied.id);
    const approved = await editedThenRestored(() => row().set({ status: 'approved' }).execute(), () => row().set({ status: 'denied' }).execute());
    expect(findingsOf(approved, denied.id)).toEqual([expect.objectContaining({ reason: 'state_disagrees', table: 'requests', field: 'status', state: 'approved', log: 'denied' })]);
    const decider = await editedThenRestored(() => row().set({ decided_by: 'bob' }).execute(), () => row().set({ decided_by: 'carol' }).execute());
    expect(findingsOf(decider, denied.id)).toEqual([expect.objectContaining({ reason: 'state_disagrees', field: 'decided_by', state: 'bob', log: 'carol' })]);
    const original = await db().selectFrom('requests').selectAll().where('id', '=', denied.id).executeTakeFirstOrThrow();
    const handmade = await editedThenRestored(
      () => db().insertInto('requests').values({ ...original, id: 'req_handmade', idempotency_key: null, status: 'approved' }).execute(),
      () => db().deleteFrom('requests').where('id', '=', 'req_handmade').execute(),
    );
    expect(findingsOf(handmade, 'req_handmade')).toEqual([expect.objectContaining({ reason: 'no_event', table: 'requests' })]);
  });

  it('a grant written by hand, deleted, un-revoked or lengthened is named, and the CLI offline exits 1 listing it', async () => {
    const approved = await decide(bob, (await submit(alice, { resource: 'grants' })).id);
    const jti = approved.grant!.jti;
    const original = await db().selectFrom('grants').selectAll().where('jti', '=', jti).executeTakeFirstOrThrow();
    const grant = () => db().updateTable('grants').where('jti', '=', jti);
    const longer = await editedThenRestored(() => grant().set({ expires_at: '2027-12-22T09:00:00.000Z' }).execute(), () => grant().set({ expires_at: original.expires_at }).execute());
    expect(findingsOf(longer, approved.id)).toEqual([expect.objectContaining({ reason: 'state_disagrees', jti, field: 'expires_at', state: '2027-12-22T09:00:00.000Z', log: original.expires_at })]);
    const deleted = await editedThenRestored(() => db().deleteFrom('grants').where('jti', '=', jti).execute(), () => db().insertInto('grants').values(original).execute());
    expect(findingsOf(deleted, approved.id)).toEqual([expect.objectContaining({ reason: 'state_missing', table: 'grants', jti })]);
    const handmade = await editedThenRestored(
      () => db().insertInto('grants').values({ ...original, jti: 'gnt_handmade', request_id: 'req_nothing' }).execute(),
      () => db().deleteFrom('grants').where('jti', '=', 'gnt_handmade').execute(),
    );
    expect(findingsOf(handmade, 'req_nothing')).toEqual([expect.objectContaining({ reason: 'no_event', table: 'grants', jti: 'gnt_handmade' })]);

    expect((await hub.api('POST', `/api/v1/grants/${jti}/revoke`, bob.token)).status).toBe(200);
    await grant().set({ status: 'active', revoked_at: null, revoked_by: null }).execute();
    try {
      const found = findingsOf(await verify(), approved.id);
      expect(found.map((finding) => finding.field)).toEqual(['status', 'revoked_at', 'revoked_by']);
      const again = await redeem(await tokenOf(approved.id));
      expect(again.body.error).toMatchObject({ code: 'GRANT_INVALID' });
      expect(again.body.error.message).toContain('the audit log records it revoked');
      if (kind === 'sqlite') {
        const offline = await cli(['audit', 'verify', '--data-dir', hub.dataDir]);
        expect(offline.code).toBe(1);
        expect(offline.stdout).toContain('the database DISAGREES with it');
        expect(offline.stdout).toContain(`state_disagrees: grant ${jti}: status is "active" but its audit events say "revoked"`);
      }
    } finally {
      await grant().set({ status: 'revoked', revoked_at: clock.now().toISOString(), revoked_by: 'bob' }).execute();
    }
  });
});
