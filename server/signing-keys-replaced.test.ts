import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { openStore, type Store } from './store/database.js';
import type { SigningKeysTable } from './store/schema.js';
import { deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: staging, match: { action: deploy, environment: staging }, autoApprove: true, grantTtl: 1h }
`;

type SigningKeyRow = { [column in keyof SigningKeysTable]: string | null };

async function stagingGrant(hub: TestHub, user: TestUser): Promise<string> {
  const answer = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest({ environment: 'staging' }));
  const token = answer.body.grant?.token;
  if (!token) throw new Error(`no grant: ${JSON.stringify(answer.body)}`);
  return token;
}

/** The hub's database, opened as someone who can write it (not through a hub) does. */
async function withDatabase<T>(hub: TestHub, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir: hub.dataDir, databaseUrl: hub.databaseUrl });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const rows = (hub: TestHub) => withDatabase(hub, async (store) => (await store.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute()) as SigningKeyRow[]);

/**
 * What someone who can write the database, but has no key file, does to have the hub sign with a key
 * of theirs: every key row deleted and one of their own put in, in plain text as an older hub kept it.
 */
async function replaceKeysWithPlainOne(hub: TestHub): Promise<{ rowId: string; kid: string }> {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  const rowId = 'primary';
  await withDatabase(hub, async (store) => {
    await store.db.deleteFrom('signing_keys').execute();
    await store.db
      .insertInto('signing_keys')
      .values({ kid: rowId, private_jwk: JSON.stringify(await exportJWK(pair.privateKey)), public_jwk: JSON.stringify(publicJwk), created_at: new Date().toISOString(), retired_at: null })
      .execute();
  });
  return { rowId, kid: await calculateJwkThumbprint(publicJwk) };
}

const jwks = async (hub: TestHub) => (await hub.api<JSONWebKeySet>('GET', '/.well-known/jwks.json', null)).body;

describe.each<DatabaseKind>(['sqlite', 'postgres'])('every signing key replaced by a plain-text one in the database on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  let keyDir: string;
  let hub: TestHub;
  afterEach(async () => {
    await hub.dispose();
    rmSync(keyDir, { recursive: true, force: true });
  });

  async function sealedHubWithGrant(): Promise<{ kekFile: string; grant: string; sealedRows: SigningKeyRow[] }> {
    keyDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-kek-'));
    const kekFile = path.join(keyDir, 'key-encryption-key');
    hub = new TestHub(kind, { policy: POLICY, keyEncryptionKeyFile: kekFile });
    await hub.start();
    const grant = await stagingGrant(hub, await hub.createUser('alice', ['requester']));
    await hub.stop();
    return { kekFile, grant, sealedRows: await rows(hub) };
  }

  it('the hub that sealed the keys before does not start, names what it found and what to do, and seals nothing', async () => {
    const { kekFile } = await sealedHubWithGrant();
    const planted = await replaceKeysWithPlainOne(hub);

    const refused = hub.start();
    await expect(refused).rejects.toThrow(/holds only grant signing keys stored in plain text \("primary"\)/);
    await expect(refused).rejects.toThrow(`${kekFile}.sealed`);
    await expect(refused).rejects.toThrow(/Restore the signing_keys table from a backup/);
    // Left in plain text, as found: not sealed, so no later start adopts it either.
    expect((await rows(hub)).map((row) => [row.kid, row.private_jwk?.startsWith('enc:')])).toEqual([[planted.rowId, false]]);
    await expect(hub.start()).rejects.toThrow(/holds only grant signing keys stored in plain text/);
  });

  it('with the table restored from a backup the hub starts and its grants verify again', async () => {
    const { grant, sealedRows } = await sealedHubWithGrant();
    await replaceKeysWithPlainOne(hub);
    await expect(hub.start()).rejects.toThrow(/plain text/);

    await withDatabase(hub, async (store) => {
      await store.db.deleteFrom('signing_keys').execute();
      await store.db.insertInto('signing_keys').values(sealedRows as never).execute();
    });
    await hub.start();
    expect((await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token: grant })).body).toMatchObject({ valid: true });
    await expect(jwtVerify(grant, createLocalJWKSet(await jwks(hub)), { issuer: 'greenlight' })).resolves.toBeDefined();
  });

  it('a running hub whose keys are all replaced by plain-text ones says there is no encrypted one, and signs on with the keys it had; one beside a sealed key is refused as such', async () => {
    const { grant, sealedRows } = await sealedHubWithGrant();
    await hub.start();
    const refusal = async () => (await hub.hub.ctx.keys.refresh().then(() => null, (error: unknown) => error as Error))?.message ?? '';

    await replaceKeysWithPlainOne(hub);
    const alone = await refusal();
    expect(alone).toContain('the database now holds only grant signing keys stored in plain text ("primary"), and no encrypted one');
    expect(alone).toContain('This hub keeps the keys it read before');
    expect(alone).not.toContain('beside encrypted ones');
    expect(decodeProtectedHeader(await stagingGrant(hub, await hub.createUser('carol', ['requester']))).kid).toBe(decodeProtectedHeader(grant).kid);

    // The sealed keys back, and a plain-text one beside them: that one is refused in those words.
    await withDatabase(hub, async (store) => {
      await store.db.updateTable('signing_keys').set({ kid: 'planted', retired_at: new Date().toISOString() }).execute();
      await store.db.insertInto('signing_keys').values(sealedRows as never).execute();
    });
    expect(await refusal()).toContain('the grant signing key "planted" is stored in plain text beside encrypted ones');
  });

  it('an operator who removes the marker beside the key file says the plain keys are theirs: the hub seals them and signs with them', async () => {
    const { kekFile } = await sealedHubWithGrant();
    const planted = await replaceKeysWithPlainOne(hub);
    await expect(hub.start()).rejects.toThrow(/plain text/);

    rmSync(`${kekFile}.sealed`);
    await hub.start();
    expect((await rows(hub)).map((row) => row.private_jwk?.startsWith('enc:v1:'))).toEqual([true]);
    expect(decodeProtectedHeader(await stagingGrant(hub, await hub.createUser('carol', ['requester']))).kid).toBe(planted.kid);
    // Sealing again is remembered: the next replacement is refused as the first was.
    expect(existsSync(`${kekFile}.sealed`)).toBe(true);
  });
});

describe.skipIf(!pg.ok)(`keys replaced while hubs on other machines share one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const keyDirs: string[] = [];
  let first: TestHub;
  let second: TestHub;
  afterEach(async () => {
    await second.stop().catch(() => undefined);
    await first.dispose();
    for (const dir of keyDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a hub that only ever opened keys another hub sealed (its own copy of the key file) refuses the plain-text key too', async () => {
    const [firstKeys, secondKeys] = [0, 1].map(() => mkdtempSync(path.join(os.tmpdir(), 'greenlight-kek-')));
    keyDirs.push(firstKeys!, secondKeys!);
    first = new TestHub('postgres', { policy: POLICY, keyEncryptionKeyFile: path.join(firstKeys!, 'key-encryption-key') });
    await first.start();
    // The operator copies the key file to the second machine, as the README says.
    copyFileSync(path.join(firstKeys!, 'key-encryption-key'), path.join(secondKeys!, 'key-encryption-key'));
    second = new TestHub('postgres', { policy: POLICY, keyEncryptionKeyFile: path.join(secondKeys!, 'key-encryption-key') });
    second.databaseUrl = first.databaseUrl;
    await second.start();
    await second.stop();
    await first.stop();

    await replaceKeysWithPlainOne(first);
    await expect(second.start()).rejects.toThrow(/holds only grant signing keys stored in plain text/);
    await expect(first.start()).rejects.toThrow(/holds only grant signing keys stored in plain text/);
  });
});
