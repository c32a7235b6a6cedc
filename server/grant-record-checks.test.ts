import { readFileSync } from 'node:fs';
import { calculateJwkThumbprint, decodeJwt, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GrantPayload, GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { payloadHashOf } from './domain/grants.js';
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

  /** Signs as someone holding the hub's signing key would (the database and the key-encryption key file, both leaked). */
  async function signWithHubKey(claims: JWTPayload): Promise<string> {
    const kek = Buffer.from(readFileSync(sharedTestKeyFiles().keyEncryptionKeyFile, 'utf8').trim(), 'base64');
    const row = await db().selectFrom('signing_keys').selectAll().where('retired_at', 'is', null).executeTakeFirstOrThrow();
    const privateJwk = JSON.parse(decryptPrivateKey(kek, row.kid, row.private_jwk) ?? 'null') as JWK;
    const kid = await calculateJwkThumbprint({ kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x });
    return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, typ: 'JWT' }).sign(await importJWK(privateJwk, 'EdDSA'));
  }

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
    const otherRequest = await signWithHubKey({ ...genuine, rid: waiting.id });
    // The approved grant, made to say another resource (and the hash of that payload).
    const billing = payloadOf(request, { resource: 'billing-api' });
    const otherResource = await signWithHubKey({ ...genuine, res: 'billing-api', payloadHash: payloadHashOf(billing) });
    // A grant row of its own for the waiting request, as someone writing the database would add.
    const requesterId = (await db().selectFrom('users').select('id').where('name', '=', 'alice').executeTakeFirstOrThrow()).id;
    const rowHash = payloadHashOf(payloadOf(waiting));
    await db()
      .insertInto('grants')
      .values({ jti: `gnt_inserted_${kind}`, request_id: waiting.id, requester_id: requesterId, token: 'x', payload_hash: rowHash, issued_at: new Date().toISOString(), not_before: new Date().toISOString(), expires_at: new Date(Date.now() + 3_600_000).toISOString(), status: 'active', redeemed_at: null, revoked_at: null, revoked_by: null, signing_key: null })
      .execute();
    const insertedRow = await signWithHubKey({ ...genuine, rid: waiting.id, res: 'billing-api', payloadHash: rowHash, jti: `gnt_inserted_${kind}` });

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
