import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

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
  let row = await db.selectFrom('signing_keys').selectAll().where('kid', '=', ROW).executeTakeFirst();
  if (!row) {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const privateJwk = await exportJWK(pair.privateKey);
    const publicJwk = await exportJWK(pair.publicKey);
    await db
      .insertInto('signing_keys')
      .values({ kid: ROW, private_jwk: JSON.stringify(privateJwk), public_jwk: JSON.stringify(publicJwk), created_at: now.toISOString() })
      .onConflict((oc) => oc.column('kid').doNothing())
      .execute();
    row = await db.selectFrom('signing_keys').selectAll().where('kid', '=', ROW).executeTakeFirstOrThrow();
  }
  const privateJwk = JSON.parse(row.private_jwk) as JWK;
  const publicJwk = JSON.parse(row.public_jwk) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    kid,
    privateKey: createPrivateKey({ key: privateJwk as JsonWebKey, format: 'jwk' }),
    publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
    publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
  };
}
