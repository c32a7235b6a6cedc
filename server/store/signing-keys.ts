import type { JWK } from 'jose';
import type { Kysely, Transaction } from 'kysely';
import type { Database, SigningKeysTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** A grant signing key as stored: the public key decoded, the private key still as stored (encrypted, or plain JSON in rows from before keys were encrypted). */
export interface SigningKeyRecord {
  /** The row's id (`primary`, `sgk_…`); the key's `kid` is its thumbprint. */
  rowId: string;
  /** Ciphertext under the key-encryption key; only the key ring, which holds that key, opens it. */
  storedPrivateKey: string;
  /**
   * The `public_jwk` column, as stored: null when it holds no JWK. Nothing trusts it: the key ring
   * derives the public key from the (authenticated) private key and refuses a row where they differ.
   */
  publicJwk: JWK | null;
  createdAt: string;
  retiredAt: string | null;
}

/** The `public_jwk` column holds a JWK as JSON; anything else (a damaged or altered row) is null, for the key ring to refuse that row alone. */
export function decodePublicJwk(text: string): JWK | null {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk) || typeof (jwk as { kty?: unknown }).kty !== 'string') return null;
  return jwk as JWK;
}

export function toSigningKeyRecord(row: SigningKeysTable): SigningKeyRecord {
  return { rowId: row.kid, storedPrivateKey: row.private_jwk, publicJwk: decodePublicJwk(row.public_jwk), createdAt: row.created_at, retiredAt: row.retired_at };
}

/** A new key as the ring writes it: its public key is the one it just derived. */
export type NewSigningKeyRecord = SigningKeyRecord & { publicJwk: JWK };

const toSigningKeyRow = (key: NewSigningKeyRecord): SigningKeysTable => ({
  kid: key.rowId,
  private_jwk: key.storedPrivateKey,
  public_jwk: JSON.stringify(key.publicJwk),
  created_at: key.createdAt,
  retired_at: key.retiredAt,
});

/** The grant signing keys (table `signing_keys`): records in, records out. */
export const signingKeyStore = {
  async any(db: Executor): Promise<boolean> {
    return (await db.selectFrom('signing_keys').select('kid').limit(1).executeTakeFirst()) !== undefined;
  },

  /** Every key, oldest first. */
  async all(db: Executor): Promise<SigningKeyRecord[]> {
    return (await db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute()).map(toSigningKeyRecord);
  },

  async insert(db: Executor, key: NewSigningKeyRecord): Promise<void> {
    await db.insertInto('signing_keys').values(toSigningKeyRow(key)).execute();
  },

  /** Inserts the key unless a row of its id exists (two hubs creating the first key at once both keep the one that won). */
  async insertUnlessPresent(db: Executor, key: NewSigningKeyRecord): Promise<void> {
    await db
      .insertInto('signing_keys')
      .values(toSigningKeyRow(key))
      .onConflict((oc) => oc.column('kid').doNothing())
      .execute();
  },

  /** Retires every key still signing. */
  async retireActive(db: Executor, now: string): Promise<void> {
    await db.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
  },

  /** Deletes the keys retired before `retiredBefore` that signed no grant unexpired at `now`. */
  async deleteUnneeded(db: Executor, retiredBefore: string, now: string): Promise<void> {
    await db
      .deleteFrom('signing_keys')
      .where('retired_at', 'is not', null)
      .where('retired_at', '<', retiredBefore)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('grants').select('grants.jti').whereRef('grants.signing_key', '=', 'signing_keys.kid').where('grants.expires_at', '>', now))))
      .execute();
  },

  /** Replaces the stored private key, if it is still `from` (another hub may have replaced it first). */
  async replacePrivateKey(db: Executor, rowId: string, from: string, to: string): Promise<void> {
    await db.updateTable('signing_keys').set({ private_jwk: to }).where('kid', '=', rowId).where('private_jwk', '=', from).execute();
  },
};
