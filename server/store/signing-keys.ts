import type { JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** The grant-signing key pair as stored: two JWKs. */
export interface StoredKeyPair {
  privateJwk: JWK;
  publicJwk: JWK;
}

/** The one signing key row every hub on a database shares (table `signing_keys`). */
export const signingKeyStore = {
  async read(db: Kysely<Database>, kid: string): Promise<StoredKeyPair | undefined> {
    const row = await db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
    // Written by this store only, from exportJWK: decoded as it was written.
    return row && { privateJwk: JSON.parse(row.private_jwk) as JWK, publicJwk: JSON.parse(row.public_jwk) as JWK };
  },

  /** Writes the pair unless another hub wrote one first (which then wins). */
  async insertIfAbsent(db: Kysely<Database>, kid: string, pair: StoredKeyPair, createdAt: Date): Promise<void> {
    await db
      .insertInto('signing_keys')
      .values({ kid, private_jwk: JSON.stringify(pair.privateJwk), public_jwk: JSON.stringify(pair.publicJwk), created_at: createdAt.toISOString() })
      .onConflict((oc) => oc.column('kid').doNothing())
      .execute();
  },
};
