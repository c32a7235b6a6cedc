import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { signingKeyStore, type NewSigningKeyRecord } from './signing-keys.js';
import { grantStore } from './grants.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const key = (rowId: string, createdAt: string): NewSigningKeyRecord => ({ rowId, storedPrivateKey: `sealed:${rowId}`, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: rowId }, createdAt, retiredAt: null });

/** Signing keys go in as records and come back as records: the public key a JWK, the private key as stored. */
describe.each(await storeKinds())('signing key records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('keys come back oldest first; rotating retires the signer, and only retired keys are deleted', async () => {
    expect(await signingKeyStore.any(store.db)).toBe(false);
    await signingKeyStore.insertUnlessPresent(store.db, key('primary', '2026-12-01T00:00:00.000Z'));
    await signingKeyStore.insertUnlessPresent(store.db, { ...key('primary', '2026-12-02T00:00:00.000Z'), storedPrivateKey: 'another' });
    expect(await signingKeyStore.all(store.db)).toEqual([key('primary', '2026-12-01T00:00:00.000Z')]);
    await signingKeyStore.retireActive(store.db, '2026-12-03T00:00:00.000Z');
    await signingKeyStore.insert(store.db, key('sgk_2', '2026-12-03T00:00:00.000Z'));
    // 'primary' was retired too recently; 'sgk_2' signs.
    await signingKeyStore.deleteUnneeded(store.db, '2026-12-03T00:00:00.000Z', '2026-12-04T00:00:00.000Z');
    await signingKeyStore.replacePrivateKey(store.db, 'sgk_2', 'stale', 'ignored');
    await signingKeyStore.replacePrivateKey(store.db, 'primary', 'sealed:primary', 'resealed');
    expect(await signingKeyStore.all(store.db)).toEqual([
      { ...key('primary', '2026-12-01T00:00:00.000Z'), storedPrivateKey: 'resealed', retiredAt: '2026-12-03T00:00:00.000Z' },
      key('sgk_2', '2026-12-03T00:00:00.000Z'),
    ]);
    await signingKeyStore.deleteUnneeded(store.db, '2026-12-03T00:00:00.001Z', '2026-12-04T00:00:00.000Z');
    expect((await signingKeyStore.all(store.db)).map((k) => k.rowId)).toEqual(['sgk_2']);
  });

  it.skipIf(skip)('a retired key stays while a grant it signed is unexpired, and goes once none is', async () => {
    await signingKeyStore.insert(store.db, { ...key('sgk_3', '2026-12-05T00:00:00.000Z'), retiredAt: '2026-12-06T00:00:00.000Z' });
    const grant = { requesterId: 'usr_1', sealedToken: 'a.b.c', payloadHash: 'ab12', issuedAt: '2026-12-05T00:00:00.000Z', notBefore: '2026-12-05T00:00:00.000Z', signingKey: 'sgk_3' };
    await grantStore.insert(store.db, { ...grant, jti: 'gnt_1', requestId: 'req_1', expiresAt: '2026-12-07T00:00:00.000Z' });
    await grantStore.insert(store.db, { ...grant, jti: 'gnt_2', requestId: 'req_2', expiresAt: '2026-12-08T00:00:00.000Z' });
    await signingKeyStore.deleteUnneeded(store.db, '2026-12-07T00:00:00.000Z', '2026-12-07T00:00:00.000Z');
    expect((await signingKeyStore.all(store.db)).map((k) => k.rowId)).toContain('sgk_3');
    await signingKeyStore.deleteUnneeded(store.db, '2026-12-08T00:00:00.000Z', '2026-12-08T00:00:00.000Z');
    expect((await signingKeyStore.all(store.db)).map((k) => k.rowId)).not.toContain('sgk_3');
  });

  it.skipIf(skip)('a public key that is not a JWK comes back as none, for the key ring to refuse that row alone', async () => {
    await store.db.insertInto('signing_keys').values({ kid: 'sgk_bad', private_jwk: 'x', public_jwk: '"just text"', created_at: '2026-12-04T00:00:00.000Z', retired_at: null }).execute();
    await store.db.insertInto('signing_keys').values({ kid: 'sgk_torn', private_jwk: 'x', public_jwk: '{"kty":', created_at: '2026-12-04T00:00:00.000Z', retired_at: null }).execute();
    const stored = await signingKeyStore.all(store.db);
    expect(stored.filter((key) => ['sgk_bad', 'sgk_torn'].includes(key.rowId)).map((key) => key.publicJwk)).toEqual([null, null]);
  });
});
