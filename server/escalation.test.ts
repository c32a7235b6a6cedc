import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import type { EscalatedPayload, GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy, environment: production }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [leads] }
      - { after: 15m, notify: [managers] }
    expireAfter: 1h
    grantTtl: 15m
    claimHolds: 10m
  - name: restarts
    match: { action: restart }
    approvers: [sre]
    escalation:
      - { after: 5m, notify: [nobody-on-call] }
      - { after: 10m, notify: [managers] }
  - name: db
    match: { action: db-open }
    approvers: [sre]
    grantTtl: 5m
  - name: self-service
    match: { action: flush-cache }
    approvers: [sre]
    allowSelfApproval: true
`;

const MINUTE = 60_000;
type ErrorBody = { error: { code: string; message: string } };

const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('escalation, expiry, claims and grants with a controlled clock on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2030-01-01T09:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, bob: TestUser, sam: TestUser, lena: TestUser, max: TestUser, erin: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    sam = await hub.createUser('sam', ['approver'], ['sre']);
    lena = await hub.createUser('lena', ['lead'], ['leads']);
    max = await hub.createUser('max', ['lead'], ['managers']);
    erin = await hub.createUser('erin', ['approver'], ['dba']);
  });
  afterAll(() => hub.dispose());

  /** Moves the hub's clock and waits until every deadline that fell due has been applied. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const submit = async (body: unknown = deployRequest()) => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, body)).body;
  const get = async (id: string, user: TestUser = alice) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, user.token)).body;
  const auditOf = async (id: string, type: string) =>
    (await hub.api<{ events: { type: string; requestId: string; data: Record<string, unknown> }[] }>('GET', `/api/v1/audit?type=${type}&limit=1000`, ADMIN_TOKEN)).body.events.filter((e) => e.requestId === id);

  it('fires each escalation step at its deadline and not before', async () => {
    const lenaClient = await hub.connect(lena);
    const maxClient = await hub.connect(max);
    const bobClient = await hub.connect(bob);
    const lenaEscalated = collect<EscalatedPayload>((l) => lenaClient.on('request:escalated', l));
    const maxEscalated = collect<EscalatedPayload>((l) => maxClient.on('request:escalated', l));
    const bobUpdated = collect<GreenlightRequest>((l) => bobClient.on('request:updated', l));

    const request = await submit();
    expect(request.nextEscalationAt).toBe('2030-01-01T09:05:00.000Z');
    await advance(5 * MINUTE - 1000);
    expect((await get(request.id)).escalationLevel).toBe(0);
    expect(await auditOf(request.id, 'request.escalated')).toHaveLength(0);

    await advance(1000);
    const first = await lenaEscalated.next((p) => p.request.id === request.id);
    expect(first.step).toBe(1);
    expect(first.previouslyNotified).toEqual(['sre']);
    expect(first.request.eligibleGroups).toEqual(['sre', 'leads']);
    const seenByBob = await bobUpdated.next((r) => r.id === request.id && r.escalationLevel === 1);
    expect(seenByBob.nextEscalationAt).toBe('2030-01-01T09:15:00.000Z');
    expect(maxEscalated.items).toHaveLength(0);

    await advance(10 * MINUTE);
    const second = await maxEscalated.next((p) => p.request.id === request.id);
    expect(second.step).toBe(2);
    expect(second.previouslyNotified).toEqual(['sre', 'leads']);
    expect(await auditOf(request.id, 'request.escalated')).toHaveLength(2);

    // The lead who was escalated to may now decide.
    const decided = await lenaClient.decide({ requestId: request.id, decision: 'approve', comment: 'on it' });
    expect(decided.status).toBe('approved');
    await advance(60 * MINUTE);
    expect((await get(request.id)).status).toBe('approved');
  });

  it('skips a step whose targets have nobody and goes straight to the next', async () => {
    const maxClient = await hub.connect(max);
    const escalated = collect<EscalatedPayload>((l) => maxClient.on('request:escalated', l));
    const request = await submit(deployRequest({ action: 'restart', resource: 'api' }));
    await advance(5 * MINUTE);
    const payload = await escalated.next((p) => p.request.id === request.id);
    expect(payload.step).toBe(2);
    const events = await auditOf(request.id, 'request.escalated');
    expect(events).toHaveLength(1);
    expect(events[0]?.data.skipped).toEqual([1]);
    await advance(5 * MINUTE);
    expect(await auditOf(request.id, 'request.escalated')).toHaveLength(1);
  });

  it('skips a step that reaches only the requester: a lead asking is escalated past the leads, to the managers', async () => {
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', lena.token, deployRequest({ reason: 'lead asks' }))).body;
    await advance(5 * MINUTE);
    const events = await auditOf(request.id, 'request.escalated');
    expect(events.map((event) => [event.data.step, event.data.skipped, event.data.notified])).toEqual([[2, [1], ['managers']]]);
    expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, max.token, { decision: 'approve' })).body.status).toBe('approved');
  });

  it('a claim holds escalation until it lapses, and never stops another approver deciding', async () => {
    const request = await submit();
    await advance(MINUTE);
    const claimed = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/claim`, bob.token);
    expect(claimed.body.claim).toEqual({ by: 'bob', until: new Date(clock.now().getTime() + 10 * MINUTE).toISOString() });
    const samView = await get(request.id, sam);
    expect(samView.claim?.by).toBe('bob');
    const samClaim = await hub.api<ErrorBody>('POST', `/api/v1/requests/${request.id}/claim`, sam.token);
    expect(samClaim.body.error.code).toBe('CONFLICT');

    await advance(5 * MINUTE);
    expect((await get(request.id)).escalationLevel).toBe(0);
    await advance(5 * MINUTE);
    const lapsed = await get(request.id);
    expect(lapsed.claim).toBeNull();
    expect(lapsed.escalationLevel).toBe(1);

    const decided = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/decisions`, sam.token, { decision: 'approve' });
    expect(decided.body.status).toBe('approved');
  });

  it('a claim repeated by its holder (a second click, a retry) answers as the first did and writes nothing more', async () => {
    const request = await submit();
    const claim = () => hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/claim`, bob.token);
    const first = await claim();
    expect(first.status).toBe(200);
    await advance(MINUTE);
    const again = await claim();
    expect(again.status).toBe(200);
    expect(again.body.claim).toEqual(first.body.claim);
    expect(again.body.version).toBe(first.body.version);
    expect(await auditOf(request.id, 'request.claimed')).toHaveLength(1);
    const claimEnds = await hub.hub.ctx.store.db.selectFrom('deadlines').select('due_at').where('request_id', '=', request.id).where('kind', '=', 'claim_end').execute();
    expect(claimEnds).toEqual([{ due_at: first.body.claim?.until }]);
    await hub.api('POST', `/api/v1/requests/${request.id}/cancel`, alice.token);
  });

  it('lets a requester claim their own request where the rule lets them approve it, and refuses it elsewhere', async () => {
    const own = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', bob.token, deployRequest({ action: 'flush-cache', resource: 'cdn' }))).body;
    const claimed = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${own.id}/claim`, bob.token);
    expect(claimed.status).toBe(200);
    expect(claimed.body.claim?.by).toBe('bob');
    const guarded = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', bob.token, deployRequest())).body;
    const refused = await hub.api<ErrorBody>('POST', `/api/v1/requests/${guarded.id}/claim`, bob.token);
    expect(refused.body.error.code).toBe('SELF_APPROVAL');
  });

  it('releasing a claim lets an overdue escalation fire at once', async () => {
    const request = await submit();
    await hub.api('POST', `/api/v1/requests/${request.id}/claim`, bob.token);
    await advance(6 * MINUTE);
    expect((await get(request.id)).escalationLevel).toBe(0);
    const notClaimer = await hub.api<ErrorBody>('POST', `/api/v1/requests/${request.id}/release`, sam.token);
    expect(notClaimer.status).toBe(403);
    // Someone with no part in the request learns nothing from trying: not who holds it, nor whether anyone does.
    const outsider = await hub.api<ErrorBody>('POST', `/api/v1/requests/${request.id}/release`, erin.token);
    const unclaimed = (await submit()).id;
    const outsiderUnclaimed = await hub.api<ErrorBody>('POST', `/api/v1/requests/${unclaimed}/release`, erin.token);
    for (const answer of [outsider, outsiderUnclaimed]) {
      expect(answer.status).toBe(403);
      expect(answer.body.error).toEqual({ code: 'FORBIDDEN', message: 'You are neither the requester nor an approver of this request.' });
    }
    await hub.api('POST', `/api/v1/requests/${unclaimed}/cancel`, alice.token);
    await hub.api('POST', `/api/v1/requests/${request.id}/release`, bob.token);
    await advance(0);
    expect((await get(request.id)).escalationLevel).toBe(1);
    await hub.api('POST', `/api/v1/requests/${request.id}/cancel`, alice.token);
  });

  it('disabling a requester ends a request already past its expiry as expired, not cancelled', async () => {
    const zed = await hub.createUser('zed', ['requester']);
    const overdue = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', zed.token, deployRequest({ reason: 'forgotten' }))).body;
    const waiting = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', zed.token, deployRequest({ action: 'db-open', reason: 'still wanted' }))).body;
    // Past the hour, before the hub's timer has looked.
    clock.set(new Date(clock.now().getTime() + 61 * MINUTE));
    expect((await hub.api('POST', '/api/v1/users/zed/disable', ADMIN_TOKEN)).status).toBe(200);
    expect((await get(overdue.id, bob)).status).toBe('expired');
    expect((await get(waiting.id, bob)).status).toBe('cancelled');
  });

  it('expires a request nobody decided, and a waiting pipeline learns it', async () => {
    const request = await submit();
    const waiting = hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}/wait?timeoutSeconds=30`, alice.token);
    await advance(60 * MINUTE);
    expect((await waiting).body.status).toBe('expired');
    expect(await auditOf(request.id, 'request.expired')).toHaveLength(1);
    const late = await hub.api<ErrorBody>('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' });
    expect(late.body.error.code).toBe('ALREADY_DECIDED');
  });

  it('a hub catching up past a request\'s expiry expires it and pages nobody for the steps it slept through', async () => {
    const request = await submit();
    await advance(70 * MINUTE);
    expect((await get(request.id)).status).toBe('expired');
    expect(await auditOf(request.id, 'request.expired')).toHaveLength(1);
    expect(await auditOf(request.id, 'request.escalated')).toEqual([]);
  });

  it('refuses a decision, a cancel or a claim that reaches a request past its expiry before the scheduler does, and expires it once', async () => {
    const [toDecide, toCancel, toClaim, outsiders] = [await submit(), await submit(), await submit(), await submit()];
    // Time jumps without the timers running: as when the hub was down while the requests fell due.
    clock.set(new Date(clock.now().getTime() + 2 * 60 * MINUTE));
    // Someone with no part in a request changes nothing and learns nothing of its expiry.
    for (const attempt of [
      await hub.api<ErrorBody>('POST', `/api/v1/requests/${outsiders.id}/decisions`, erin.token, { decision: 'approve' }),
      await hub.api<ErrorBody>('POST', `/api/v1/requests/${outsiders.id}/claim`, erin.token),
      await hub.api<ErrorBody>('POST', `/api/v1/requests/${outsiders.id}/cancel`, bob.token),
    ]) {
      expect(['NOT_ELIGIBLE', 'FORBIDDEN']).toContain(attempt.body.error.code);
      expect(attempt.body.error.message).not.toMatch(/expired/);
    }
    expect(await auditOf(outsiders.id, 'request.expired')).toHaveLength(0);
    const late = [
      await hub.api<ErrorBody>('POST', `/api/v1/requests/${toDecide.id}/decisions`, bob.token, { decision: 'approve' }),
      await hub.api<ErrorBody>('POST', `/api/v1/requests/${toCancel.id}/cancel`, alice.token),
      await hub.api<ErrorBody>('POST', `/api/v1/requests/${toClaim.id}/claim`, bob.token),
    ];
    for (const reply of late) {
      expect(reply.status).toBe(409);
      expect(reply.body.error.code).toBe('ALREADY_DECIDED');
      expect(reply.body.error.message).toMatch(/^This request expired at 2030-/);
    }
    await hub.hub.scheduler.runNow();
    for (const request of [toDecide, toCancel, toClaim, outsiders]) {
      const current = await get(request.id);
      expect(current.status).toBe('expired');
      expect(current.grant).toBeNull();
      expect(current.decisions).toEqual([]);
      expect(await auditOf(request.id, 'request.expired')).toHaveLength(1);
    }
  });

  const approvedGrant = async (requestedTtlSeconds?: number) => {
    const request = await submit(deployRequest({ action: 'db-open', resource: 'orders-db', requestedTtlSeconds }));
    await hub.api('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' });
    const mine = await get(request.id);
    if (!mine.grant?.token) throw new Error('no grant');
    return { request: mine, token: mine.grant.token, jti: mine.grant.jti };
  };
  const verify = async (token: string) => (await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token })).body;

  it('caps the grant TTL at the rule and runs it from the approval', async () => {
    const capped = await approvedGrant(3600);
    expect(Date.parse(capped.request.grant!.expiresAt) - clock.now().getTime()).toBe(5 * MINUTE);
    const short = await approvedGrant(60);
    expect(Date.parse(short.request.grant!.expiresAt) - clock.now().getTime()).toBe(MINUTE);
    const claims = (await verify(short.token)).grant!;
    expect(claims).toMatchObject({ requester: 'alice', action: 'db-open', resource: 'orders-db', environment: 'production' });
    expect(claims.payloadHash).toMatch(/^[0-9a-f]{64}$/);

    await advance(MINUTE);
    expect((await get(short.request.id)).grant?.status).toBe('expired');
    expect(await auditOf(short.request.id, 'grant.expired')).toHaveLength(1);
    expect(await verify(short.token)).toMatchObject({ valid: false, reason: 'expired' });
  });

  it('verify explains why a grant is not valid', async () => {
    const live = await approvedGrant();
    expect(await verify(live.token)).toMatchObject({ valid: true });
    const [header, payload, signature] = live.token.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), res: 'everything' })).toString('base64url')}.${signature}`;
    expect(await verify(tampered)).toMatchObject({ valid: false, reason: 'bad_signature' });
    // Not a token at all is told apart from a token someone else signed.
    expect(await verify('not-a-token')).toMatchObject({ valid: false, reason: 'malformed' });
    expect(await verify('a.b.c')).toMatchObject({ valid: false, reason: 'malformed' });
    expect(await verify(`${header}.${payload}`)).toMatchObject({ valid: false, reason: 'malformed' });

    const forged = await new SignJWT({ rid: 'req_x', act: 'deploy', res: 'x', env: 'y', payloadHash: 'z' })
      .setProtectedHeader({ alg: 'EdDSA', kid: hub.hub.ctx.keys.current.kid })
      .setIssuer('greenlight')
      .setJti('gnt_never_issued')
      .setNotBefore(Math.floor(clock.now().getTime() / 1000))
      .setExpirationTime(Math.floor(clock.now().getTime() / 1000) + 60)
      .sign(hub.hub.ctx.keys.current.privateKey);
    expect(await verify(forged)).toMatchObject({ valid: false, reason: 'unknown' });

    const revoked = await approvedGrant();
    const outsider = await hub.api<ErrorBody>('POST', `/api/v1/grants/${revoked.jti}/revoke`, erin.token);
    expect(outsider.status).toBe(403);
    const byRequester = await hub.api<GreenlightRequest>('POST', `/api/v1/grants/${revoked.jti}/revoke`, alice.token);
    expect(byRequester.body.grant?.status).toBe('revoked');
    expect(byRequester.body.version).toBeGreaterThan(revoked.request.version);
    expect(await verify(revoked.token)).toMatchObject({ valid: false, reason: 'revoked' });
    expect(await auditOf(revoked.request.id, 'grant.revoked')).toHaveLength(1);
  });

  it('redeems a grant exactly once under concurrent redeems', async () => {
    const { token, request } = await approvedGrant();
    const results = await Promise.all(Array.from({ length: 20 }, () => hub.api<ErrorBody>('POST', '/api/v1/grants/redeem', null, { token })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.every((r) => r.status === 409 && r.body.error.code === 'ALREADY_REDEEMED')).toBe(true);
    expect(await verify(token)).toMatchObject({ valid: false, reason: 'redeemed' });
    expect(await auditOf(request.id, 'grant.redeemed')).toHaveLength(1);
  });

  it('a decision racing the escalation deadline leaves one consistent outcome and an intact chain', async () => {
    for (let trial = 0; trial < 25; trial++) {
      const request = await submit();
      clock.advance(5 * MINUTE - 1);
      const decision = hub.api('POST', `/api/v1/requests/${request.id}/decisions`, bob.token, { decision: 'approve' });
      clock.advance(1);
      await Promise.all([decision, hub.hub.scheduler.runNow()]);
      const final = await get(request.id);
      expect(final.status).toBe('approved');
      const types = final.timeline.map((e) => e.type);
      const escalatedAt = types.indexOf('request.escalated');
      if (escalatedAt >= 0) expect(escalatedAt).toBeLessThan(types.indexOf('request.approved'));
      expect(types.filter((t) => t === 'request.escalated').length).toBeLessThanOrEqual(1);
      await advance(30 * MINUTE);
      expect((await get(request.id)).timeline.filter((e) => e.type === 'request.escalated').length).toBeLessThanOrEqual(1);
    }
    const chain = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(chain.body.ok).toBe(true);
  });
});
