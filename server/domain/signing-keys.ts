import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';
import { signingKeyStore } from '../store/signing-keys.js';

export interface SigningKeys {
  kid: string;
  /** Signs grants (node:crypto, synchronous). */
  privateKey: KeyObject;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

const ROW = 'primary';

/**
 * The grant signing key lives in the database, so every hub on one database signs and verifies
 * with the same key. The first hub to start creates it; a racing second insert is ignored.
 */
export async function loadSigningKeys(db: Kysely<Database>, now: Date): Promise<SigningKeys> {
  let stored = await signingKeyStore.read(db, ROW);
  if (!stored) {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    await signingKeyStore.insertIfAbsent(db, ROW, { privateJwk: await exportJWK(pair.privateKey), publicJwk: await exportJWK(pair.publicKey) }, now);
    stored = await signingKeyStore.read(db, ROW);
    if (!stored) throw new Error('The signing key was neither found nor written.');
  }
  const { privateJwk, publicJwk } = stored;
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    privateKey: createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' }),
    publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
    publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
  };
}
