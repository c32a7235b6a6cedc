import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { cli } from './cli/cli-harness.js';
import { decryptPrivateKey } from './keys/key-encryption.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: staging, match: { action: deploy, environment: staging }, autoApprove: true, grantTtl: 1h }
`;

async function grantToken(hub: TestHub, user: TestUser, ttlSeconds?: number): Promise<string> {
  const answer = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ environment: 'staging', requestedTtlSeconds: ttlSeconds }));
  expect(answer.status).toBe(201);
  const token = answer.body.grant?.token;
  if (!token) throw new Error(`no grant: ${JSON.stringify(answer.body)}`);
  return token;
}

const jwks = async (hub: TestHub) => (await hub.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null)).body;

describe('grant signing keys at rest', () => {
  const keyDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-kek-'));
  const kekFile = path.join(keyDir, 'key-encryption-key');
  const hub = new TestHub('sqlite', { policy: POLICY, keyEncryptionKeyFile: kekFile });
  let alice: TestUser;
  let grant: string;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    grant = await grantToken(hub, alice);
    await hub.stop();
  });
  afterAll(async () => {
    await hub.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const storedKey = async (dataDir: string) => {
    const { default: Sqlite } = await import('better-sqlite3');
    const db = new Sqlite(path.join(dataDir, 'greenlight.db'));
    try {
      return db.prepare('select kid, private_jwk from signing_keys').get() as { kid: string; private_jwk: string };
    } finally {
      db.close();
    }
  };

  it('are encrypted with a key-encryption key kept in a 0600 file outside the data directory', async () => {
    expect(statSync(kekFile).mode & 0o777).toBe(0o600);
    const row = await storedKey(hub.dataDir);
    expect(row.private_jwk.startsWith('enc:v1:')).toBe(true);
    expect(row.private_jwk).not.toContain('"d"');
    const plain = decryptPrivateKey(Buffer.from(readFileSync(kekFile, 'utf8').trim(), 'base64'), row.kid, row.private_jwk);
    expect(JSON.parse(plain ?? 'null')).toMatchObject({ kty: 'OKP', crv: 'Ed25519', d: expect.any(String) });
  });

  it('a copy of the database without the key file cannot sign: the hub refuses to start on it', async () => {
    const copy = new TestHub('sqlite', { policy: POLICY, keyEncryptionKeyFile: path.join(keyDir, 'another-kek') });
    try {
      copyFileSync(path.join(hub.dataDir, 'greenlight.db'), path.join(copy.dataDir, 'greenlight.db'));
      await expect(copy.start()).rejects.toThrow(/encrypted with another key-encryption key/);
    } finally {
      await copy.dispose();
    }
    // With the key file it was made with, the same copy signs and verifies as before.
    const withKey = new TestHub('sqlite', { policy: POLICY, keyEncryptionKeyFile: kekFile });
    try {
      copyFileSync(path.join(hub.dataDir, 'greenlight.db'), path.join(withKey.dataDir, 'greenlight.db'));
      await withKey.start();
      expect((await withKey.api('POST', '/api/v1/grants/verify', null, { token: grant })).body).toMatchObject({ valid: true });
    } finally {
      await withKey.dispose();
    }
  });

  it('a key an older hub stored in plain text is encrypted on start and keeps verifying its grants', async () => {
    const { default: Sqlite } = await import('better-sqlite3');
    const row = await storedKey(hub.dataDir);
    const plain = decryptPrivateKey(Buffer.from(readFileSync(kekFile, 'utf8').trim(), 'base64'), row.kid, row.private_jwk);
    // The database as a hub from before keys were encrypted left it: the key in plain text, and no key file yet.
    const upgraded = new TestHub('sqlite', { policy: POLICY, keyEncryptionKeyFile: path.join(keyDir, 'upgrade', 'key-encryption-key') });
    try {
      copyFileSync(path.join(hub.dataDir, 'greenlight.db'), path.join(upgraded.dataDir, 'greenlight.db'));
      const db = new Sqlite(path.join(upgraded.dataDir, 'greenlight.db'));
      db.prepare('update signing_keys set private_jwk = ? where kid = ?').run(plain, row.kid);
      db.close();

      await upgraded.start();
      const after = await storedKey(upgraded.dataDir);
      expect(after.private_jwk.startsWith('enc:v1:')).toBe(true);
      expect((await upgraded.api('POST', '/api/v1/grants/verify', null, { token: grant })).body).toMatchObject({ valid: true });
    } finally {
      await upgraded.dispose();
    }
  });
});

describe('greenlight keys rotate', () => {
  // A little behind real time: the CLI and jose read it only through the hub and `currentDate`.
  const clock = new ManualClock(new Date(Date.now() - 60_000));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
  });
  afterAll(() => hub.dispose());

  const verifyOffline = (token: string, keys: JSONWebKeySet) => jwtVerify(token, createLocalJWKSet(keys), { issuer: 'greenlight', currentDate: clock.now() });

  it('publishes old and new keys until every grant of the old key has expired, then drops the old one', async () => {
    const old = await grantToken(hub, alice, 600);
    const before = await jwks(hub);
    expect(before.keys).toHaveLength(1);
    await expect(verifyOffline(old, before)).resolves.toBeDefined();

    const rotated = await cli(['keys', 'rotate', '--json'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: ADMIN_TOKEN });
    expect(rotated.code).toBe(0);
    const outcome = JSON.parse(rotated.stdout) as { kid: string; retired: string[] };
    expect(outcome.retired).toEqual([decodeProtectedHeader(old).kid]);

    const fresh = await grantToken(hub, alice, 3600);
    expect(decodeProtectedHeader(fresh).kid).toBe(outcome.kid);
    const during = await jwks(hub);
    expect(during.keys.map((key) => key.kid).sort()).toEqual([decodeProtectedHeader(old).kid, outcome.kid].sort());
    await expect(verifyOffline(old, during)).resolves.toBeDefined();
    await expect(verifyOffline(fresh, during)).resolves.toBeDefined();
    expect((await hub.api('POST', '/api/v1/grants/verify', null, { token: old })).body).toMatchObject({ valid: true });

    // The old key's last grant ends: the key leaves the JWKS; grants of the new key still verify.
    clock.advance(11 * 60_000);
    const after = await jwks(hub);
    expect(after.keys.map((key) => key.kid)).toEqual([outcome.kid]);
    await expect(verifyOffline(fresh, after)).resolves.toBeDefined();
    await expect(verifyOffline(old, after)).rejects.toBeInstanceOf(joseErrors.JWKSNoMatchingKey);

    const audit = await hub.api<{ events: { type: string; actor: string }[] }>('GET', '/api/v1/audit?type=signing_key.rotated', ADMIN_TOKEN);
    expect(audit.body.events).toEqual([expect.objectContaining({ type: 'signing_key.rotated', actor: 'admin' })]);
  });

  it('is for admins only', async () => {
    const refused = await cli(['keys', 'rotate'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: alice.token });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(FORBIDDEN)');
  });
});

describe.skipIf(!pg.ok)(`rotation with two hubs on one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const first = new TestHub('postgres', { policy: POLICY, keyRefreshMs: 100 });
  let second: TestHub;

  beforeAll(async () => {
    await first.start();
    second = new TestHub('postgres', { policy: POLICY, keyRefreshMs: 100 });
    second.databaseUrl = first.databaseUrl;
    await second.start();
  });
  afterAll(async () => {
    await second.stop().catch(() => undefined);
    await first.dispose();
  });

  it('a key rotated on one hub signs on the other within moments, and both publish old and new', async () => {
    const alice = await first.createUser('alice', ['requester']);
    const old = await grantToken(second, alice);
    const rotated = await first.api<{ kid: string; retired: string[] }>('POST', '/api/v1/admin/signing-keys/rotate', ADMIN_TOKEN);
    expect(rotated.status).toBe(200);
    // The other hub learns of the rotation by itself: its next grants carry the new key.
    await eventually(async () => decodeProtectedHeader(await grantToken(second, alice)).kid === rotated.body.kid, { what: 'the second hub to sign with the rotated key', deadline: 10_000 });
    for (const hub of [first, second]) {
      const keys = await jwks(hub);
      expect(keys.keys.map((key) => key.kid).sort()).toEqual([decodeProtectedHeader(old).kid, rotated.body.kid].sort());
      expect((await hub.api('POST', '/api/v1/grants/verify', null, { token: old })).body).toMatchObject({ valid: true });
    }
  });
});
