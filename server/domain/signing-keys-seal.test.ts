import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/database.js';
import { signingKeyStore, type NewSigningKeyRecord } from '../store/signing-keys.js';
import { isEncrypted } from '../keys/key-encryption.js';
import { sealedKeysMemory } from '../keys/sealed-keys-marker.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';
import { ManualClock } from '../clock.js';
import { SigningKeyRing } from './signing-keys.js';

async function plainKey(rowId: string, createdAt: string, retiredAt: string | null): Promise<NewSigningKeyRecord> {
  const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { rowId, storedPrivateKey: JSON.stringify(await exportJWK(pair.privateKey)), publicJwk: await exportJWK(pair.publicKey), createdAt, retiredAt };
}

/** Keys an older hub stored in plain text are sealed all together or not at all: a start that dies half-way leaves none sealed. */
describe.each(await storeKinds())('sealing plain-text signing keys on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  const kek = randomBytes(32);
  const keyDir = mkdtempSync(path.join(os.tmpdir(), 'greenlight-kek-'));
  const kekFile = path.join(keyDir, 'key-encryption-key');
  const load = () => SigningKeyRing.load(store.db, kek, kekFile, sealedKeysMemory(kek, kekFile), new ManualClock('2026-12-03T00:00:00.000Z'), { refused: () => undefined, sealedLegacy: () => undefined });
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => {
    await cleanup();
    rmSync(keyDir, { recursive: true, force: true });
  });

  const failUpdatesOf = async (rowId: string) => {
    if (kind === 'SQLite') {
      await sql.raw(`create trigger seal_dies before update on signing_keys when new.kid = '${rowId}' begin select raise(abort, 'the hub died here'); end`).execute(store.db);
    } else {
      await sql.raw(`create function seal_dies() returns trigger language plpgsql as $$ begin raise exception 'the hub died here'; end $$`).execute(store.db);
      await sql.raw(`create trigger seal_dies before update on signing_keys for each row when (new.kid = '${rowId}') execute function seal_dies()`).execute(store.db);
    }
  };
  const stopFailing = async () => {
    if (kind === 'SQLite') await sql.raw('drop trigger seal_dies').execute(store.db);
    else await sql.raw('drop trigger seal_dies on signing_keys; drop function seal_dies()').execute(store.db);
  };

  it.skipIf(skip)('a start that fails while sealing leaves every key as it was, and the next start seals them all', async () => {
    await signingKeyStore.insert(store.db, await plainKey('sgk_old', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'));
    await signingKeyStore.insert(store.db, await plainKey('sgk_new', '2026-12-02T00:00:00.000Z', null));
    await failUpdatesOf('sgk_new');
    await expect(load()).rejects.toThrow(/the hub died here/);
    expect((await signingKeyStore.all(store.db)).map((key) => isEncrypted(key.storedPrivateKey))).toEqual([false, false]);

    await stopFailing();
    const ring = await load();
    expect((await signingKeyStore.all(store.db)).map((key) => isEncrypted(key.storedPrivateKey))).toEqual([true, true]);
    expect(ring.current.rowId).toBe('sgk_new');
  });
});
