import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Kysely } from 'kysely';
import type { Database, SigningKeysTable } from '../store/schema.js';
import type { Dialect } from '../store/database.js';
import { grantStore } from '../store/grants.js';
import { newId } from '../ids.js';
import { decryptPrivateKey, encryptPrivateKey, isEncrypted } from '../keys/key-encryption.js';

export interface SigningKey {
  /** The signing_keys row. */
  rowId: string;
  /** The JWK thumbprint, the `kid` of grants and of the JWKS entry. */
  kid: string;
  /** Signs grants (node:crypto, synchronous). */
  privateKey: KeyObject;
  publicKey: CryptoKey;
  publicJwk: JWK;
  retiredAt: string | null;
}

export class SigningKeyError extends Error {}

/**
 * The grant signing keys. They live in the database, encrypted with a key-encryption key that does
 * not (AES-256-GCM), so every hub given the same key file signs and verifies with the same keys, and a
 * copy of the database alone signs nothing. One key signs; keys rotated out are kept for verifying
 * and published until every grant they signed has expired.
 */
export class SigningKeyRing {
  /** By `kid`. */
  private keys = new Map<string, SigningKey>();
  /** By row, so a refresh decrypts only keys it has not seen. */
  private opened = new Map<string, SigningKey>();
  private signer!: SigningKey;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly kek: Buffer,
    private readonly kekFile: string,
    private readonly dialect: Dialect,
  ) {}

  /** Loads the keys, creating the first on a new database and encrypting any still stored in plain text. */
  static async load(db: Kysely<Database>, kek: Buffer, kekFile: string, now: Date, dialect: Dialect): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(db, kek, kekFile, dialect);
    const existing = await db.selectFrom('signing_keys').select('kid').limit(1).executeTakeFirst();
    // The first hub creates it; a racing second insert is ignored and both read the one that won.
    if (!existing) await ring.insertNew('primary', now);
    await ring.refresh();
    return ring;
  }

  get current(): SigningKey {
    return this.signer;
  }

  /** Re-reads the keys: another hub may have rotated them. */
  async refresh(): Promise<void> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    const keys = new Map<string, SigningKey>();
    let signer: SigningKey | null = null;
    for (const row of rows) {
      const key = this.opened.get(row.kid) ?? (await this.open(row));
      this.opened.set(row.kid, key);
      key.retiredAt = row.retired_at;
      keys.set(key.kid, key);
      if (row.retired_at === null) signer = key;
    }
    if (!signer) throw new SigningKeyError('the database holds no active grant signing key');
    this.keys = keys;
    this.signer = signer;
  }

  /** The public key for a grant's `kid`, reading the keys again once when it is not known here. */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | null> {
    if (kid === undefined) return this.signer.publicKey;
    if (!this.keys.has(kid)) await this.refresh();
    return this.keys.get(kid)?.publicKey ?? null;
  }

  /** The JWKS: the signing key, and each retired key while a grant it signed has not expired; retired keys past that are deleted. */
  async publishedJwks(now: Date): Promise<JWK[]> {
    const out: JWK[] = [];
    for (const key of this.keys.values()) {
      if (key.retiredAt !== null && !(await this.stillNeeded(key, now))) {
        await this.db.deleteFrom('signing_keys').where('kid', '=', key.rowId).where('retired_at', 'is not', null).execute();
        this.keys.delete(key.kid);
        this.opened.delete(key.rowId);
        continue;
      }
      out.push(key.publicJwk);
    }
    return out;
  }

  /** A new key signs from now on; the old ones are retired (published while their grants live). */
  async rotate(now: Date): Promise<{ kid: string; retired: string[] }> {
    const retired = [...this.keys.values()].filter((key) => key.retiredAt === null).map((key) => key.kid);
    const rowId = newId('sgk', now);
    await this.db.transaction().execute(async (trx) => {
      // Two hubs rotating at once would each retire only what they saw and leave two signing keys:
      // on PostgreSQL they take turns on the chain head's row, so the second retires the first's key.
      if (this.dialect === 'postgres') await trx.selectFrom('chain_head').select('id').where('id', '=', 1).forUpdate().execute();
      await trx.updateTable('signing_keys').set({ retired_at: now.toISOString() }).where('retired_at', 'is', null).execute();
      const row = await this.newRow(rowId, now);
      await trx.insertInto('signing_keys').values(row).execute();
    });
    await this.refresh();
    return { kid: this.signer.kid, retired };
  }

  private async stillNeeded(key: SigningKey, now: Date): Promise<boolean> {
    return grantStore.anyLiveSignedBy(this.db, key.rowId, now.toISOString());
  }

  private async newRow(rowId: string, now: Date): Promise<SigningKeysTable> {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const privateJwk = JSON.stringify(await exportJWK(pair.privateKey));
    const publicJwk = JSON.stringify(await exportJWK(pair.publicKey));
    return { kid: rowId, private_jwk: encryptPrivateKey(this.kek, rowId, privateJwk), public_jwk: publicJwk, created_at: now.toISOString(), retired_at: null };
  }

  private async insertNew(rowId: string, now: Date): Promise<void> {
    await this.db
      .insertInto('signing_keys')
      .values(await this.newRow(rowId, now))
      .onConflict((oc) => oc.column('kid').doNothing())
      .execute();
  }

  private async open(row: SigningKeysTable): Promise<SigningKey> {
    let privateText: string;
    if (isEncrypted(row.private_jwk)) {
      const plain = decryptPrivateKey(this.kek, row.kid, row.private_jwk);
      if (plain === null) {
        throw new SigningKeyError(
          `the grant signing key "${row.kid}" in the database was encrypted with another key-encryption key than ${this.kekFile}; start the hub with the key file the database was made with (--key-encryption-key)`,
        );
      }
      privateText = plain;
    } else {
      // Written before keys were encrypted: encrypt it in place, once.
      privateText = row.private_jwk;
      await this.db
        .updateTable('signing_keys')
        .set({ private_jwk: encryptPrivateKey(this.kek, row.kid, privateText) })
        .where('kid', '=', row.kid)
        .where('private_jwk', '=', row.private_jwk)
        .execute();
    }
    const publicJwk = JSON.parse(row.public_jwk) as JWK;
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      rowId: row.kid,
      kid,
      privateKey: createPrivateKey({ key: JSON.parse(privateText) as JsonWebKey, format: 'jwk' }),
      publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
      publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
      retiredAt: row.retired_at,
    };
  }
}
