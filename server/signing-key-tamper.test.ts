import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { capturedLog } from './test-support/captured-log.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: staging, match: { action: deploy, environment: staging }, autoApprove: true, grantTtl: 1h }
  - { name: prod, match: { action: deploy, environment: production }, approvers: [sre], grantTtl: 1h }
`;

type ErrorLine = { level: number; msg: string; rowId?: string; reason?: string; kid?: string; storedKid?: string | null };

/** What someone who can write the database, but has no key file, does: a key pair of their own. */
async function attackerKey(): Promise<{ privateKey: CryptoKey; publicJwk: JWK; kid: string }> {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  return { privateKey: pair.privateKey, publicJwk, kid: await calculateJwkThumbprint(publicJwk) };
}

/** A grant token for `requestId`, signed with the attacker's key and named by its thumbprint, as the JWKS would name it. */
async function forgedGrant(key: { privateKey: CryptoKey; kid: string }, requestId: string, jti: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ rid: requestId, act: 'deploy', res: 'payments-api', env: 'production', payloadHash: 'whatever', sub: 'alice', jti })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
    .setIssuer('greenlight')
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 3600)
    .sign(key.privateKey);
}

const jwks = async (hub: TestHub) => (await hub.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null)).body;
const publishedKids = async (hub: TestHub) => (await jwks(hub)).keys.map((key) => key.kid).sort();
/** As a target system verifies offline: jose, against the JWKS the hub publishes. */
const verifyOffline = async (hub: TestHub, token: string) => jwtVerify(token, createLocalJWKSet(await jwks(hub)), { issuer: 'greenlight' });

async function stagingGrant(hub: TestHub, user: TestUser): Promise<string> {
  const answer = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ environment: 'staging' }));
  const token = answer.body.grant?.token;
  if (!token) throw new Error(`no grant: ${JSON.stringify(answer.body)}`);
  return token;
}

const db = (hub: TestHub) => hub.hub.ctx.store.db;
const swapPublicKey = (hub: TestHub, rowId: string, publicJwk: string) => db(hub).updateTable('signing_keys').set({ public_jwk: publicJwk }).where('kid', '=', rowId).execute();
const rowOf = async (hub: TestHub, retired: boolean) =>
  (await db(hub).selectFrom('signing_keys').select(['kid', 'retired_at']).execute()).find((row) => (row.retired_at !== null) === retired)!.kid;

/** An active grant row for a request nobody approved, on the altered key: what keeps that key published. */
async function grantRowFor(hub: TestHub, requester: TestUser, signingKey: string): Promise<{ requestId: string; jti: string }> {
  const pending = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', requester.token, deployRequest({ resource: 'svc-forge' }));
  expect(pending.body.status).toBe('pending');
  const requesterId = (await db(hub).selectFrom('users').select('id').where('name', '=', requester.name).executeTakeFirstOrThrow()).id;
  const now = new Date();
  const jti = 'gnt_forged';
  await db(hub)
    .insertInto('grants')
    .values({ jti, request_id: pending.body.id, requester_id: requesterId, token: 'x', payload_hash: 'x', issued_at: now.toISOString(), not_before: now.toISOString(), expires_at: new Date(now.getTime() + 3_600_000).toISOString(), status: 'active', redeemed_at: null, revoked_at: null, revoked_by: null, signing_key: signingKey })
    .execute();
  return { requestId: pending.body.id, jti };
}

describe.each<DatabaseKind>(['sqlite', 'postgres'])('a signing key row altered in the database on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  let hub: TestHub;
  afterEach(() => hub.dispose());

  async function started(): Promise<{ log: ReturnType<typeof capturedLog<ErrorLine>>; alice: TestUser }> {
    const log = capturedLog<ErrorLine>('error');
    hub = new TestHub(kind, { policy: POLICY, logger: log.logger });
    await hub.start();
    // Someone who could approve, so the request the forged grant names waits on them.
    await hub.createUser('bob', ['approver'], ['sre']);
    return { log, alice: await hub.createUser('alice', ['requester']) };
  }

  it('a retired key given the public key of someone else’s pair is neither published nor used to verify after a restart; the good keys still sign and verify', async () => {
    const { log, alice } = await started();
    const old = await stagingGrant(hub, alice);
    const oldKid = decodeProtectedHeader(old).kid;
    const rotated = await hub.api<{ kid: string }>('POST', '/api/v1/admin/signing-keys/rotate', ADMIN_TOKEN);
    expect(rotated.status).toBe(200);
    const retiredRow = await rowOf(hub, true);
    const attacker = await attackerKey();
    await swapPublicKey(hub, retiredRow, JSON.stringify(attacker.publicJwk));
    const target = await grantRowFor(hub, alice, retiredRow);
    await hub.stop();
    await hub.start();

    // Neither the attacker's key nor the altered row's own: only the key that signs now.
    expect(await publishedKids(hub)).toEqual([rotated.body.kid]);
    const forged = await forgedGrant(attacker, target.requestId, target.jti);
    await expect(verifyOffline(hub, forged)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
    expect((await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: forged })).body).toMatchObject({ valid: false, reason: 'bad_signature' });
    const redeemed = await hub.api<{ error: { code: string } }>('POST', '/api/v1/grants/redeem', null, { token: forged });
    expect(redeemed.status).toBe(403);
    expect(redeemed.body.error.code).toBe('GRANT_INVALID');
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${target.requestId}`, ADMIN_TOKEN)).body.status).toBe('pending');
    // What the altered key signed no longer verifies either: the row is not trusted for anything.
    expect((await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: old })).body).toMatchObject({ valid: false, reason: 'bad_signature' });

    expect(log.lines().filter((line) => line.level === 50 && line.rowId === retiredRow)).toEqual([
      expect.objectContaining({ reason: 'public_key_mismatch', kid: oldKid, storedKid: attacker.kid, msg: expect.stringContaining(`"${retiredRow}"`) }),
    ]);
    const fresh = await stagingGrant(hub, alice);
    expect(decodeProtectedHeader(fresh).kid).toBe(rotated.body.kid);
    await expect(verifyOffline(hub, fresh)).resolves.toBeDefined();
    expect((await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: fresh })).body).toMatchObject({ valid: true });
  });

  it('a running hub refuses the row at its next read of the keys, and a key whose public column is not a key at all', async () => {
    const { log, alice } = await started();
    const old = await stagingGrant(hub, alice);
    await hub.api('POST', '/api/v1/admin/signing-keys/rotate', ADMIN_TOKEN);
    const retiredRow = await rowOf(hub, true);
    expect(await publishedKids(hub)).toContain(decodeProtectedHeader(old).kid);
    await swapPublicKey(hub, retiredRow, '{"kty":');
    await hub.hub.ctx.keys.refresh();
    await hub.hub.ctx.keys.refresh();
    expect(await publishedKids(hub)).toEqual([hub.hub.ctx.keys.current.kid]);
    expect((await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: old })).body).toMatchObject({ valid: false, reason: 'bad_signature' });
    // Reported once, not at every read of the keys.
    expect(log.lines().filter((line) => line.rowId === retiredRow)).toEqual([expect.objectContaining({ level: 50, reason: 'public_key_mismatch', storedKid: null })]);
    // And after a restart the hub starts with the good key (a row that is not a key does not stop it).
    await hub.stop();
    await hub.start();
    expect(await publishedKids(hub)).toEqual([hub.hub.ctx.keys.current.kid]);
    expect((await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: await stagingGrant(hub, alice) })).body).toMatchObject({ valid: true });
  });

  it('the signing key altered so: the hub does not start, naming the row and why', async () => {
    await started();
    const activeRow = await rowOf(hub, false);
    await swapPublicKey(hub, activeRow, JSON.stringify((await attackerKey()).publicJwk));
    await hub.stop();
    await expect(hub.start()).rejects.toThrow(new RegExp(`active grant signing key "${activeRow}" is refused \\(public_key_mismatch\\)`));
  });
});

describe.skipIf(!pg.ok)(`a signing key row altered while two hubs share one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  let first: TestHub;
  let second: TestHub | undefined;
  afterEach(async () => {
    await second?.stop().catch(() => undefined);
    await first.dispose();
  });

  it('is refused by the hub already running and by a hub that starts after', async () => {
    first = new TestHub('postgres', { policy: POLICY, keyRefreshMs: 100 });
    await first.start();
    const alice = await first.createUser('alice', ['requester']);
    await first.createUser('bob', ['approver'], ['sre']);
    const old = await stagingGrant(first, alice);
    await first.api('POST', '/api/v1/admin/signing-keys/rotate', ADMIN_TOKEN);
    const retiredRow = await rowOf(first, true);
    const attacker = await attackerKey();
    await swapPublicKey(first, retiredRow, JSON.stringify(attacker.publicJwk));
    const target = await grantRowFor(first, alice, retiredRow);

    second = new TestHub('postgres', { policy: POLICY, keyRefreshMs: 100 });
    second.databaseUrl = first.databaseUrl;
    await second.start();
    const signer = second.hub.ctx.keys.current.kid;
    const forged = await forgedGrant(attacker, target.requestId, target.jti);
    expect(await publishedKids(second)).toEqual([signer]);
    // The hub that opened the row before it was altered drops it at its next read of the keys.
    await eventually(async () => ((await publishedKids(first)).includes(decodeProtectedHeader(old).kid ?? '') ? undefined : true), { what: 'the running hub to drop the altered key', deadline: 10_000 });
    for (const hub of [second, first]) {
      expect(await publishedKids(hub)).toEqual([signer]);
      await expect(verifyOffline(hub, forged)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);
      expect((await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: forged })).body).toMatchObject({ valid: false, reason: 'bad_signature' });
      expect((await hub.api('POST', '/api/v1/grants/redeem', null, { token: forged })).status).toBe(403);
    }
  });
});
