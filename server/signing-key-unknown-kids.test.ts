import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, createLocalJWKSet, SignJWT, type JSONWebKeySet } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { UNKNOWN_KID_READ_GAP_MS } from './domain/signing-keys.js';
import { signingKeyStore } from './store/signing-keys.js';
import { ADMIN_TOKEN, deployRequest, startOnOneDatabase, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: staging, match: { action: deploy, environment: staging }, autoApprove: true, grantTtl: 1h }
`;

// Periodic reads of the keys too rare to be among those counted.
const RARE_REFRESH_MS = 10 * 60_000;

const verify = (hub: TestHub, token: string) => hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token });

async function grantOn(hub: TestHub, user: TestUser): Promise<string> {
  const answer = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ environment: 'staging' }));
  const token = answer.body.grant?.token;
  if (!token) throw new Error(`no grant: ${answer.status} ${JSON.stringify(answer.body)}`);
  return token;
}

/** Tokens shaped like the hub's grant, each naming a `kid` nobody ever had (signed with a key of the test's own). */
async function madeUpKids(like: string, count: number): Promise<string[]> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const claims = decodeJwt(like);
  return Promise.all(Array.from({ length: count }, () => new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: randomUUID(), typ: 'JWT' }).sign(privateKey)));
}

describe.each<DatabaseKind>(['sqlite', 'postgres'])('tokens naming keys nobody has on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock(new Date());
  const hub = new TestHub(kind, { policy: POLICY, clock, keyRefreshMs: RARE_REFRESH_MS });
  let alice: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());
  afterEach(() => vi.restoreAllMocks());

  it('read the signing keys at most once a second, however many come at once or one after another', async () => {
    const genuine = await grantOn(hub, alice);
    const reads = vi.spyOn(signingKeyStore, 'all');
    const burst = await madeUpKids(genuine, 100);
    const answers = await Promise.all(burst.map((token) => verify(hub, token)));
    expect(answers.map((answer) => answer.body)).toEqual(Array(100).fill({ valid: false, reason: 'bad_signature', grant: null }));
    for (const token of await madeUpKids(genuine, 20)) expect((await verify(hub, token)).body).toMatchObject({ reason: 'bad_signature' });
    expect(reads).toHaveBeenCalledTimes(1);

    clock.advance(UNKNOWN_KID_READ_GAP_MS);
    for (const token of await madeUpKids(genuine, 20)) expect((await verify(hub, token)).body).toMatchObject({ reason: 'bad_signature' });
    expect(reads).toHaveBeenCalledTimes(2);
    // A key the hub knows is never a reason to read.
    expect((await verify(hub, genuine)).body).toMatchObject({ valid: true });
    expect(reads).toHaveBeenCalledTimes(2);
  });
});

// The legitimate unknown kid: another hub rotated the key, and a grant it signed reaches this hub
// before the rotation's announcement does (held back here).
describe.skipIf(!pg.ok)(`a key another hub on PostgreSQL just rotated to${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  // This hub's clock, minutes ahead of the other's so the other's grants have started by it, moves only when told.
  const clock = new ManualClock(new Date(Date.now() + 5 * 60_000));
  const here = new TestHub('postgres', { policy: POLICY, clock, keyRefreshMs: RARE_REFRESH_MS });
  const other = new TestHub('postgres', { policy: POLICY, keyRefreshMs: RARE_REFRESH_MS });
  let alice: TestUser;
  beforeAll(async () => {
    await startOnOneDatabase(here, other);
    alice = await here.createUser('alice', ['requester']);
  });
  afterAll(async () => {
    await other.stop().catch(() => undefined);
    await here.dispose();
  });
  afterEach(() => vi.restoreAllMocks());

  /** Rotates on the other hub, its announcement to this one held back; a grant the other hub signs with the new key. */
  const rotateUnannounced = async (): Promise<string> => {
    const emit = other.hub.ctx.bus.emit.bind(other.hub.ctx.bus);
    const held = vi.spyOn(other.hub.ctx.bus, 'emit').mockImplementation((event) => (event.type === 'signing_keys.changed' ? undefined : emit(event)));
    const rotated = await other.api<{ kid: string }>('POST', '/api/v1/admin/signing-keys/rotate', ADMIN_TOKEN);
    expect(rotated.status).toBe(200);
    held.mockRestore();
    const token = await grantOn(other, alice);
    expect(decodeProtectedHeader(token).kid).toBe(rotated.body.kid);
    expect(here.hub.ctx.keys.current.kid).not.toBe(rotated.body.kid);
    return token;
  };

  it('verifies at first sight, and still does a second after tokens naming made-up keys were tried', async () => {
    const reads = vi.spyOn(signingKeyStore, 'all');
    const first = await rotateUnannounced();
    reads.mockClear();
    expect((await verify(here, first)).body).toMatchObject({ valid: true, grant: { requester: 'alice' } });
    expect(reads).toHaveBeenCalledTimes(1);
    // Verified offline too, against the JWKS this hub now publishes.
    const jwks = (await here.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null)).body;
    await expect(jwtVerify(first, createLocalJWKSet(jwks), { issuer: 'greenlight', currentDate: clock.now() })).resolves.toBeTruthy();

    clock.advance(UNKNOWN_KID_READ_GAP_MS);
    const flood = await madeUpKids(first, 50);
    expect((await Promise.all(flood.map((token) => verify(here, token)))).every((answer) => answer.body.reason === 'bad_signature')).toBe(true);
    expect(reads).toHaveBeenCalledTimes(2);

    const second = await rotateUnannounced();
    reads.mockClear();
    clock.advance(UNKNOWN_KID_READ_GAP_MS);
    expect((await verify(here, second)).body).toMatchObject({ valid: true });
    expect(reads).toHaveBeenCalledTimes(1);
  });
});
