import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, decodeJwt, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GrantPayload, GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { payloadHashOf } from './domain/payload-hash.js';
import { decryptPrivateKey } from './keys/key-encryption.js';
import { grantStore } from './store/grants.js';
import { ADMIN_TOKEN, approvedRequest, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';
import { sharedTestKeyFiles } from './test-support/test-keys.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], grantTtl: 1h }
`;

type Refusal = { error: { code: string; message: string } };

/** Signs as someone holding the hub's signing key would (the database and the key-encryption key file, both leaked). */
async function signWithHubKey(hub: TestHub, claims: JWTPayload): Promise<string> {
  const kek = Buffer.from(readFileSync(sharedTestKeyFiles().keyEncryptionKeyFile, 'utf8').trim(), 'base64');
  const row = await hub.hub.ctx.store.db.selectFrom('signing_keys').selectAll().where('retired_at', 'is', null).executeTakeFirstOrThrow();
  const privateJwk = JSON.parse(decryptPrivateKey(kek, row.kid, row.private_jwk) ?? 'null') as JWK;
  const kid = await calculateJwkThumbprint({ kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x });
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' }).sign(await importJWK(privateJwk, 'EdDSA'));
}

const payloadOf = (request: GreenlightRequest, changes: Partial<GrantPayload> = {}): GrantPayload => ({ action: request.action, resource: request.resource, environment: request.environment, context: request.context ?? {}, ...changes });

describe.each<DatabaseKind>(['sqlite', 'postgres'])('a grant token checked against its record on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const hub = new TestHub(kind, { policy: POLICY });
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());
  afterEach(() => vi.restoreAllMocks());

  const db = () => hub.hub.ctx.store.db;
  const verify = (token: string, payload?: GrantPayload) => hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, payload ? { token, payload } : { token });
  const redeem = (token: string, payload?: GrantPayload) => hub.api<VerifyResult & Refusal>('POST', '/api/v1/grants/redeem', null, payload ? { token, payload } : { token });
  const view = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body;

  const sign = (claims: JWTPayload) => signWithHubKey(hub, claims);

  const pending = async (resource: string) => {
    const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ resource }));
    expect(created.body.status).toBe('pending');
    return created.body;
  };

  it('signed with the hub’s key but naming another request, payload or resource than its record, or a request nobody approved: unknown, and nothing is redeemed', async () => {
    const approved = await approvedRequest(hub, alice, bob, { resource: 'payments-api' });
    const request = await view(approved.id);
    const genuine = decodeJwt(approved.token);
    const waiting = await pending('billing-api');

    // The approved grant's id, moved onto a request still waiting for approval.
    const otherRequest = await sign({ ...genuine, rid: waiting.id });
    // The approved grant, made to say another resource (and the hash of that payload).
    const billing = payloadOf(request, { resource: 'billing-api' });
    const otherResource = await sign({ ...genuine, res: 'billing-api', payloadHash: payloadHashOf(billing) });
    // A grant row of its own for the waiting request, as someone writing the database would add.
    const requesterId = (await db().selectFrom('users').select('id').where('name', '=', 'alice').executeTakeFirstOrThrow()).id;
    const rowHash = payloadHashOf(payloadOf(waiting));
    await db()
      .insertInto('grants')
      .values({ jti: `gnt_inserted_${kind}`, request_id: waiting.id, requester_id: requesterId, token: 'x', payload_hash: rowHash, issued_at: new Date().toISOString(), not_before: new Date().toISOString(), expires_at: new Date(Date.now() + 3_600_000).toISOString(), status: 'active', redeemed_at: null, revoked_at: null, revoked_by: null, signing_key: null })
      .execute();
    const insertedRow = await sign({ ...genuine, rid: waiting.id, res: 'billing-api', payloadHash: rowHash, jti: `gnt_inserted_${kind}` });

    for (const [token, payload] of [[otherRequest, undefined], [otherResource, billing], [insertedRow, payloadOf(waiting)]] as const) {
      expect((await verify(token, payload)).body).toMatchObject({ valid: false, reason: 'unknown' });
      const refused = await redeem(token);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({ code: 'GRANT_INVALID', message: expect.stringContaining('unknown') });
    }
    expect((await view(waiting.id)).status).toBe('pending');
    expect((await grantStore.statusOf(db(), `gnt_inserted_${kind}`))).toBe('active');
    // The genuine grant was not used by any of them, and still works.
    expect((await view(approved.id)).grant?.status).toBe('active');
    expect((await verify(approved.token, payloadOf(request))).body).toMatchObject({ valid: true });
    expect((await redeem(approved.token)).status).toBe(200);
  });

  it('a token the hub never issued is answered unknown, without repeating what it claims', async () => {
    const approved = await approvedRequest(hub, alice, bob, { resource: 'echo-api' });
    const genuine = decodeJwt(approved.token);
    const invented = { sub: 'mallory-the-admin', res: 'all-of-production', act: 'drop-database' };
    const forged = await sign({ ...genuine, ...invented });
    const noRecord = await sign({ ...genuine, ...invented, jti: `gnt_never_issued_${kind}` });
    for (const token of [forged, noRecord]) {
      const answer = await verify(token);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ valid: false, reason: 'unknown', grant: null });
      const refused = await redeem(token);
      expect(refused.body).toEqual({ error: { code: 'GRANT_INVALID', message: 'This grant cannot be used (unknown): it does not match any grant this hub issued; ask for a new approval.' } });
    }
    expect((await verify(approved.token)).body).toMatchObject({ valid: true, grant: { resource: 'echo-api', requester: 'alice' } });
  });

  // A disable revokes its user's grants; a grant an approval racing the disable issued is not among
  // them, so here the disable lands (as a direct write of the users row) between the token's check and the redeem's write.
  it('its requester disabled after the token was checked, before the redeem’s write: refused as revoked, the grant left unused', async () => {
    const carol = await hub.createUser('carol', ['requester']);
    const approved = await approvedRequest(hub, carol, bob, { resource: 'carol-api' });
    const read = grantStore.stateOf;
    vi.spyOn(grantStore, 'stateOf').mockImplementationOnce(async (executor, jti) => {
      const state = await read.call(grantStore, executor, jti);
      await db().updateTable('users').set({ disabled: 1 }).where('name', '=', 'carol').execute();
      return state;
    });
    const refused = await redeem(approved.token);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'GRANT_INVALID', message: expect.stringContaining('revoked') });
    expect((await view(approved.id)).grant?.status).toBe('active');
    expect((await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?type=grant.redeemed&resource=carol-api', ADMIN_TOKEN)).body.events).toEqual([]);
    expect((await verify(approved.token)).body).toMatchObject({ valid: false, reason: 'revoked' });
  });

  it('a grant already used or revoked is reported so, whatever payload the target gives', async () => {
    const used = await approvedRequest(hub, alice, bob, { resource: 'used-api' });
    const revoked = await approvedRequest(hub, alice, bob, { resource: 'revoked-api' });
    const wrong = payloadOf(await view(used.id), { resource: 'elsewhere' });
    expect((await redeem(used.token)).status).toBe(200);
    const revocation = await hub.api('POST', `/api/v1/grants/${(await view(revoked.id)).grant?.jti}/revoke`, alice.token);
    expect(revocation.status).toBe(200);

    expect((await verify(used.token, wrong)).body).toMatchObject({ valid: false, reason: 'redeemed' });
    expect((await verify(revoked.token, wrong)).body).toMatchObject({ valid: false, reason: 'revoked' });
    const again = await redeem(used.token, wrong);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_REDEEMED');
    expect((await redeem(revoked.token, wrong)).body.error.message).toContain('revoked');
  });
});

const KINDS_POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    grantTtl: 1h
    maxScheduleAhead: 2d
    breakGlass: { groups: [oncall], maxTtl: 30m, reviewers: [security] }
    extensions: { autoApprove: 1, maxTotal: 3h }
  - name: db-hours
    match: { action: db-open }
    approvers: [sre]
    grantTtl: 4h
    maxScheduleAhead: 2d
    windows:
      - { days: [mon, tue, wed, thu, fri], from: "08:00", to: "19:00", timezone: Europe/Berlin }
`;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe.each<DatabaseKind>(['sqlite', 'postgres'])('every kind of grant checked against its record on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  // Monday 28 December 2026, 10:00 in Berlin, inside the window; a fraction into the second, as approvals are.
  const clock = new ManualClock('2026-12-28T09:00:00.400Z');
  const hub = new TestHub(kind, { policy: KINDS_POLICY, clock });
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, erin: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    // Carol approves nothing of her own: what she approves here, she approves for bob.
    carol = await hub.createUser('carol', ['approver'], ['devs']);
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    erin = await hub.createUser('erin', ['requester'], ['oncall']);
    await hub.createUser('sue', ['approver'], ['security']);
    const delegation = await hub.api('POST', '/api/v1/delegations', bob.token, { to: 'carol', endsAt: new Date(clock.now().getTime() + 7 * 24 * HOUR).toISOString(), reason: 'holiday' });
    expect(delegation.status).toBe(201);
  });
  afterAll(() => hub.dispose());

  const db = () => hub.hub.ctx.store.db;
  const sign = (claims: JWTPayload) => signWithHubKey(hub, claims);
  const verify = (token: string) => hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token });
  const redeem = (token: string) => hub.api<VerifyResult & Refusal>('POST', '/api/v1/grants/redeem', null, { token });
  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const submit = async (user: TestUser, body: Parameters<typeof deployRequest>[0]) => {
    const created = await hub.api<GreenlightRequest & Refusal>('POST', '/api/v1/requests', user.token, deployRequest(body));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  };
  const decide = async (user: TestUser, id: string) => expect((await hub.api('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision: 'approve' })).status).toBe(200);
  const grantOf = async (user: TestUser, id: string) => {
    const grant = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, user.token)).body.grant;
    if (!grant?.token) throw new Error(`${id} has no grant token for ${user.name}`);
    return { ...grant, token: grant.token };
  };
  const scheduled = async (resource: string) => {
    const request = await submit(alice, { resource, notBefore: new Date(clock.now().getTime() + HOUR).toISOString() });
    await decide(bob, request.id);
    return grantOf(alice, request.id);
  };
  const breakGlass = async (user: TestUser, resource: string) => {
    const request = await submit(user, { resource, reason: 'database is down, customers cannot pay', breakGlass: { incident: 'INC-4412' } });
    expect(request.status).toBe('approved');
    return grantOf(user, request.id);
  };
  const delegated = async (resource: string) => {
    const request = await submit(alice, { resource });
    await decide(carol, request.id);
    return grantOf(alice, request.id);
  };

  it('signed with the hub’s key but naming another requester, span or marks than its record: unknown, and nothing is redeemed', async () => {
    const plain = await grantOf(alice, (await approvedRequest(hub, alice, bob, { resource: 'forged-plain' })).id);
    const later = await scheduled('forged-scheduled');
    const glass = await breakGlass(dave, 'forged-glass');
    const stoodIn = await delegated('forged-delegated');
    const [p, s, g, d] = [decodeJwt(plain.token), decodeJwt(later.token), decodeJwt(glass.token), decodeJwt(stoodIn.token)];
    expect([g.bg, d.obo]).toEqual([true, [{ by: 'carol', for: 'bob' }]]);
    const { bg: _bg, ...glassUnmarked } = g;
    const { obo: _obo, ...delegationLeftOut } = d;
    const forgeries: [string, JWTPayload][] = [
      ['another requester', { ...p, sub: 'bob' }],
      ['no requester', { ...p, sub: undefined }],
      // The scheduled grant, made to start now: a target would let it in an hour early.
      ['an earlier start', { ...s, nbf: p.nbf }],
      ['a later start', { ...p, nbf: (p.nbf ?? 0) + 30 }],
      ['a later end', { ...p, exp: (p.exp ?? 0) + 3600 }],
      ['an earlier end', { ...p, exp: (p.exp ?? 0) - 60 }],
      ['break-glass it was not', { ...p, bg: true }],
      ['a break-glass mark the hub never writes', { ...p, bg: 'true' }],
      ['break-glass it was, unmarked', glassUnmarked],
      ['an approval on someone’s behalf nobody gave', { ...p, obo: [{ by: 'carol', for: 'bob' }] }],
      ['another approver stood in for', { ...d, obo: [{ by: 'carol', for: 'erin' }] }],
      ['its delegated approval left out', delegationLeftOut],
      ['an empty list of delegated approvals', { ...p, obo: [] }],
      // Issued an hour from now, or before the request was even submitted: the record says when it was issued.
      ['an issue time in the future', { ...p, iat: (p.iat ?? 0) + 3600 }],
      ['an issue time before its request', { ...p, iat: (p.iat ?? 0) - 3600 }],
      ['an issue time a second later', { ...p, iat: (p.iat ?? 0) + 1 }],
      ['no issue time', { ...p, iat: undefined }],
      // The hub writes whole seconds; a fraction the millisecond comparison would round away is still not its token.
      ['an end a fraction of a millisecond later', { ...p, exp: (p.exp ?? 0) + 0.0004 }],
      ['an end most of a second later', { ...p, exp: (p.exp ?? 0) + 0.9 }],
      ['a start a fraction of a millisecond later', { ...p, nbf: (p.nbf ?? 0) + 0.0004 }],
      ['an issue time a fraction of a millisecond later', { ...p, iat: (p.iat ?? 0) + 0.0004 }],
    ];
    for (const [what, claims] of forgeries) {
      const token = await sign(claims);
      expect((await verify(token)).body, what).toEqual({ valid: false, reason: 'unknown', grant: null });
      const refused = await redeem(token);
      expect(refused.status, what).toBe(403);
      expect(refused.body.error, what).toMatchObject({ code: 'GRANT_INVALID', message: expect.stringContaining('unknown') });
    }
    // None of them used a grant; each genuine token still answers as its record says, the early one with the record's start.
    for (const genuine of [plain, glass, stoodIn]) expect((await verify(genuine.token)).body).toMatchObject({ valid: true });
    const early = await redeem(later.token);
    expect(early.body.error).toMatchObject({ code: 'NOT_YET_VALID', message: `This grant is not valid yet: it starts at ${later.notBefore} (until ${later.expiresAt}); redeem it then.` });
  });

  it('real grants of every kind verify and redeem: plain, break-glass, delegated, recorded as hubs before scheduled starts did, extended, scheduled, cut to a window', async () => {
    const redeems = async (what: string, token: string) => {
      expect((await verify(token)).body, what).toMatchObject({ valid: true });
      const used = await redeem(token);
      expect(used.status, what).toBe(200);
      expect((await verify(token)).body, what).toMatchObject({ valid: false, reason: 'redeemed' });
    };
    await redeems('plain', (await approvedRequest(hub, alice, bob, { resource: 'kind-plain' })).token);
    await redeems('break-glass', (await breakGlass(erin, 'kind-glass')).token);
    await redeems('delegated', (await delegated('kind-delegated')).token);

    // Hubs before scheduled starts recorded a grant's start as the approval's instant, to the millisecond, its nbf that second.
    const old = await approvedRequest(hub, alice, bob, { resource: 'kind-recorded-before' });
    await db().updateTable('grants').set((eb) => ({ not_before: eb.ref('issued_at') })).where('request_id', '=', old.id).execute();
    expect((await grantStore.spanOfRequest(db(), old.id))?.notBefore).toMatch(/\.400Z$/);
    await redeems('recorded to the millisecond', old.token);

    // An extension is a new grant, from the end of the one it extends.
    const extended = await approvedRequest(hub, alice, bob, { resource: 'kind-extended' });
    await advance(50 * MINUTE);
    const extension = await hub.api<GreenlightRequest & Refusal>('POST', `/api/v1/grants/${(await grantOf(alice, extended.id)).jti}/extend`, alice.token, { ttlSeconds: 1800, reason: 'migration runs long' });
    expect(extension.status, JSON.stringify(extension.body)).toBe(201);
    const extensionGrant = await grantOf(alice, extension.body.id);
    expect((await verify(extensionGrant.token)).body).toMatchObject({ valid: false, reason: 'not_yet_valid' });
    await advance(11 * MINUTE);
    await redeems('extension', extensionGrant.token);

    const start = await scheduled('kind-scheduled');
    expect((await verify(start.token)).body).toMatchObject({ valid: false, reason: 'not_yet_valid', grant: { notBefore: start.notBefore } });
    await advance(HOUR);
    await redeems('scheduled', start.token);

    // Three hours asked from 18:00 in Berlin: cut where the window closes, at 19:00.
    const evening = await submit(alice, { action: 'db-open', resource: 'kind-windowed', notBefore: '2026-12-28T18:00:00+01:00', requestedTtlSeconds: 3 * 3600 });
    await decide(bob, evening.id);
    const cut = await grantOf(alice, evening.id);
    expect([cut.notBefore, cut.expiresAt]).toEqual(['2026-12-28T17:00:00.000Z', '2026-12-28T18:00:00.000Z']);
    await advance(Date.parse('2026-12-28T17:30:00.000Z') - clock.now().getTime());
    await redeems('cut to a window', cut.token);
  });

  // Two hubs on one database read their clocks a fraction of a second apart: one may check a grant
  // another recorded (to the millisecond, as hubs before scheduled starts did) before its start.
  it('refused before its recorded start, the refusal quotes the record’s start, not the token’s', async () => {
    await advance(Date.parse('2026-12-29T09:00:00.400Z') - clock.now().getTime());
    const old = await approvedRequest(hub, alice, bob, { resource: 'quoted-start' });
    await db().updateTable('grants').set((eb) => ({ not_before: eb.ref('issued_at') })).where('request_id', '=', old.id).execute();
    const recorded = (await grantStore.spanOfRequest(db(), old.id))!;
    expect(recorded.notBefore).toBe('2026-12-29T09:00:00.400Z');
    clock.set(new Date(Date.parse(recorded.notBefore) - 300));
    expect((await verify(old.token)).body).toMatchObject({ valid: false, reason: 'not_yet_valid' });
    const early = await redeem(old.token);
    expect(early.body.error).toMatchObject({ code: 'NOT_YET_VALID', message: `This grant is not valid yet: it starts at ${recorded.notBefore} (until ${recorded.expiresAt}); redeem it then.` });
  });
});
