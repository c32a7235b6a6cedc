import { createPrivateKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { signingKeyStore, type SigningKeyRecord } from '../store/signing-keys.js';
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
 * A retired key is deleted only this long after it was retired (and once no grant it signed is
 * unexpired): until other hubs read the keys again (every few seconds) they still sign with it, and
 * a grant signed just before a rotation may commit after it.
 */
const KEEP_RETIRED_MS = 60 * 60_000;
/** How long a retired key found unneeded stays unpublished before its grants are read again (another hub may still sign with it). */
const RECHECK_UNNEEDED_MS = 5_000;

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
  /** By row, for retired keys: when the last grant each signed expires (null: none), as read at `readAt`. */
  private readonly lastGrantExpiry = new Map<string, { last: string | null; readAt: number }>();

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly kek: Buffer,
    private readonly kekFile: string,
  ) {}

  /** Loads the keys, creating the first on a new database and encrypting any still stored in plain text. */
  static async load(db: Kysely<Database>, kek: Buffer, kekFile: string, now: Date): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(db, kek, kekFile);
    // The first hub creates it; a racing second insert is ignored and both read the one that won.
    if (!(await signingKeyStore.any(db))) await ring.insertNew('primary', now);
    await sealLegacyKeys(db, kek);
    await ring.refresh();
    return ring;
  }

  get current(): SigningKey {
    return this.signer;
  }

  /** Re-reads the keys: another hub may have rotated them. */
  async refresh(): Promise<void> {
    const records = await signingKeyStore.all(this.db);
    const keys = new Map<string, SigningKey>();
    // Only the rows still there: a rotation deletes retired keys no grant needs.
    const opened = new Map<string, SigningKey>();
    let signer: SigningKey | null = null;
    // Every row is opened before any key changes: a row refused leaves the keys as they were.
    for (const record of records) opened.set(record.rowId, this.opened.get(record.rowId) ?? (await this.open(record)));
    for (const record of records) {
      const key = opened.get(record.rowId)!;
      key.retiredAt = record.retiredAt;
      keys.set(key.kid, key);
      if (record.retiredAt === null) signer = key;
    }
    if (!signer) throw new SigningKeyError('the database holds no active grant signing key');
    this.keys = keys;
    this.opened = opened;
    for (const rowId of this.lastGrantExpiry.keys()) if (!opened.has(rowId)) this.lastGrantExpiry.delete(rowId);
    this.signer = signer;
  }

  /** The public key for a grant's `kid`, reading the keys again once when it is not known here. */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | null> {
    if (kid === undefined) return this.signer.publicKey;
    if (!this.keys.has(kid)) await this.refresh();
    return this.keys.get(kid)?.publicKey ?? null;
  }

  /**
   * The JWKS: the signing key, and each retired key while a grant it signed has not expired. Anyone may
   * fetch it, so it only reads, and rarely: a key is known to be needed until its last grant's expiry
   * (later grants only extend that), and once retired for `KEEP_RETIRED_MS` no grant is signed with
   * it any more, so what was read then holds. Retired keys no grant needs are deleted by `rotate`.
   */
  async publishedJwks(now: Date): Promise<JWK[]> {
    const keys = [...this.keys.values()];
    const iso = now.toISOString();
    const stale = keys.filter((key) => {
      if (key.retiredAt === null) return false;
      const known = this.lastGrantExpiry.get(key.rowId);
      if (!known) return true;
      if (known.last !== null && known.last > iso) return false;
      const final = known.readAt - Date.parse(key.retiredAt) >= KEEP_RETIRED_MS;
      return !final && now.getTime() - known.readAt >= RECHECK_UNNEEDED_MS;
    });
    if (stale.length) {
      const last = await grantStore.lastExpiryBySigningKey(this.db, stale.map((key) => key.rowId));
      for (const key of stale) this.lastGrantExpiry.set(key.rowId, { last: last.get(key.rowId) ?? null, readAt: now.getTime() });
    }
    return keys.filter((key) => key.retiredAt === null || (this.lastGrantExpiry.get(key.rowId)?.last ?? '') > iso).map((key) => key.publicJwk);
  }

  /**
   * Inside the caller's transaction: retires the signing key and adds a new one, which signs here once
   * `refresh` has run after commit. The caller's transaction holds the chain head first
   * (`inTransaction` takes it on PostgreSQL), so two hubs rotating at once take turns and the second
   * retires the first's new key: no two keys sign.
   */
  async rotate(trx: Transaction<Database>, now: Date): Promise<{ kid: string; retired: string[] }> {
    // Read under that lock, not from this hub's copy: another hub may have rotated since.
    const active = (await signingKeyStore.all(trx)).filter((key) => key.retiredAt === null);
    const retired = await Promise.all(active.map((key) => calculateJwkThumbprint(key.publicJwk)));
    const key = await this.newKey(newId('sgk', now), now);
    await signingKeyStore.retireActive(trx, now.toISOString());
    await signingKeyStore.insert(trx, key);
    await signingKeyStore.deleteUnneeded(trx, new Date(now.getTime() - KEEP_RETIRED_MS).toISOString(), now.toISOString());
    return { kid: await calculateJwkThumbprint(key.publicJwk), retired };
  }

  private async newKey(rowId: string, now: Date): Promise<SigningKeyRecord> {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const privateJwk = JSON.stringify(await exportJWK(pair.privateKey));
    return { rowId, storedPrivateKey: encryptPrivateKey(this.kek, rowId, privateJwk), publicJwk: await exportJWK(pair.publicKey), createdAt: now.toISOString(), retiredAt: null };
  }

  private async insertNew(rowId: string, now: Date): Promise<void> {
    await signingKeyStore.insertUnlessPresent(this.db, await this.newKey(rowId, now));
  }

  private async open(record: SigningKeyRecord): Promise<SigningKey> {
    if (!isEncrypted(record.storedPrivateKey)) {
      throw new SigningKeyError(
        `the grant signing key "${record.rowId}" is stored in plain text beside encrypted ones: it was not written by a hub (which encrypts every key with ${this.kekFile}), so it is not used. Delete that row.`,
      );
    }
    const privateText = decryptPrivateKey(this.kek, record.rowId, record.storedPrivateKey);
    if (privateText === null) {
      throw new SigningKeyError(
        `the grant signing key "${record.rowId}" in the database was encrypted with another key-encryption key than ${this.kekFile}; start the hub with the key file the database was made with (--key-encryption-key)`,
      );
    }
    const publicJwk = record.publicJwk;
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      rowId: record.rowId,
      kid,
      privateKey: createPrivateKey({ key: JSON.parse(privateText) as JsonWebKey, format: 'jwk' }),
      publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
      publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
      retiredAt: record.retiredAt,
    };
  }
}

/**
 * Keys stored in plain text are from before keys were encrypted: when every key is, they are sealed
 * in place, all in one transaction, so a start that dies half-way leaves none sealed rather than a mix
 * the next start would refuse. Once any key is encrypted, a plain-text one can only have been written
 * by someone with the database and without the key-encryption key: it is never sealed, nor used.
 * Hubs starting together each seal what they read; a row another hub sealed first is left as it is.
 */
async function sealLegacyKeys(db: Kysely<Database>, kek: Buffer): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const records = await signingKeyStore.all(trx);
    if (records.some((record) => isEncrypted(record.storedPrivateKey))) return;
    for (const record of records) {
      await signingKeyStore.replacePrivateKey(trx, record.rowId, record.storedPrivateKey, encryptPrivateKey(kek, record.rowId, record.storedPrivateKey));
    }
  });
}
