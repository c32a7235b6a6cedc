import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../store/schema.js';
import { signingKeyStore, type NewSigningKeyRecord, type SigningKeyRecord } from '../store/signing-keys.js';
import { grantStore } from '../store/grants.js';
import { newId } from '../ids.js';
import { decryptPrivateKey, encryptPrivateKey, isEncrypted } from '../keys/key-encryption.js';
import type { SealedKeysMemory } from '../keys/sealed-keys-marker.js';
import type { Clock } from '../clock.js';

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
 * A signing_keys row the ring does not use. `public_key_mismatch`: the row's public key is not the one
 * its private key gives (or is no JWK at all): only someone writing the database outside a hub makes
 * that, to have the hub publish or verify with a key of their choosing.
 */
export interface SigningKeyRefusal {
  rowId: string;
  reason: 'public_key_mismatch';
  /** The thumbprint of the stored public key (null: none), and of the key the row's private key gives. */
  storedKid: string | null;
  kid: string;
  message: string;
}

/** What the ring tells its hub: rows it does not use, and keys an older hub left in plain text, sealed now. */
export interface SigningKeyReports {
  refused: (refusal: SigningKeyRefusal) => void;
  sealedLegacy: (fields: { keys: number; marker: string }, message: string) => void;
}

/** What a row was opened from, so a refresh opens it again only when it changed. */
interface OpenedRow {
  storedPrivateKey: string;
  storedPublicJwk: string;
  /** Null: refused. */
  key: SigningKey | null;
}

/**
 * A retired key is deleted only this long after it was retired (and once no grant it signed is
 * unexpired): until other hubs read the keys again (every few seconds) they still sign with it, and
 * a grant signed just before a rotation may commit after it.
 */
const KEEP_RETIRED_MS = 60 * 60_000;
/** How long a retired key found unneeded stays unpublished before its grants are read again (another hub may still sign with it). */
const RECHECK_UNNEEDED_MS = 5_000;
/** At most one read of the keys this often for tokens naming a `kid` not known here, however many come. */
export const UNKNOWN_KID_READ_GAP_MS = 1_000;

/**
 * The grant signing keys. They live in the database, encrypted with a key-encryption key that does
 * not (AES-256-GCM), so every hub given the same key file signs and verifies with the same keys, and a
 * copy of the database alone signs nothing. One key signs; keys rotated out are kept for verifying
 * and published until every grant they signed has expired.
 */
export class SigningKeyRing {
  /** By `kid`. */
  private keys = new Map<string, SigningKey>();
  /** By row, so a refresh decrypts (and reports a refused row) only when the row is new or changed. */
  private opened = new Map<string, OpenedRow>();
  private signer!: SigningKey;
  /** By row, for retired keys: when the last grant each signed expires (null: none), as read at `readAt`. */
  private readonly lastGrantExpiry = new Map<string, { last: string | null; readAt: number }>();
  /** The read a token with an unknown `kid` started, while it runs, and when (by the clock) the last such read started. */
  private unknownKidRead: Promise<void> | null = null;
  private unknownKidReadAt = Number.NEGATIVE_INFINITY;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly kek: Buffer,
    private readonly kekFile: string,
    private readonly clock: Clock,
    private readonly refused: (refusal: SigningKeyRefusal) => void,
  ) {}

  /**
   * Loads the keys, creating the first on a new database and encrypting any an older hub stored in
   * plain text, unless `sealed` remembers this key-encryption key holding sealed keys before. Once
   * they open, `sealed` remembers it. `refused` hears of each row not used, once per change of that row.
   */
  static async load(db: Kysely<Database>, kek: Buffer, kekFile: string, sealed: SealedKeysMemory, clock: Clock, reports: SigningKeyReports): Promise<SigningKeyRing> {
    const ring = new SigningKeyRing(db, kek, kekFile, clock, reports.refused);
    const now = clock.now();
    // The first hub creates it; a racing second insert is ignored and both read the one that won.
    if (!(await signingKeyStore.any(db))) await ring.insertNew('primary', now);
    const sealedNow = await sealLegacyKeys(db, kek, kekFile, sealed);
    await ring.refresh();
    // Without it, someone who can write the database could swap every key for a plain-text one of
    // their own at any later start and have it sealed: a missing key file the hub can't create stops
    // the start too.
    const unwritten = sealed.remember(now);
    if (unwritten) {
      throw new SigningKeyError(
        `cannot write ${sealed.file} (${unwritten}): the hub records there that the key-encryption key ${kekFile} holds sealed grant signing keys, so that it never seals plain-text keys someone puts in the database in their place, and does not start without it. Let the hub's user write to ${path.dirname(sealed.file)}, or create that file yourself (empty will do; on a read-only key volume, add it there).`,
      );
    }
    if (sealedNow > 0) {
      reports.sealedLegacy({ keys: sealedNow, marker: sealed.file }, `sealed ${sealedNow} grant signing key${sealedNow === 1 ? '' : 's'} an older hub stored in plain text, and wrote ${sealed.file} so that plain-text keys are never sealed again`);
    }
    return ring;
  }

  get current(): SigningKey {
    return this.signer;
  }

  /** Re-reads the keys: another hub may have rotated them. */
  async refresh(): Promise<void> {
    const records = await signingKeyStore.all(this.db);
    const plainOnly = onlyPlainText(records, this.kekFile);
    if (plainOnly) throw new SigningKeyError(`${plainOnly} This hub keeps the keys it read before, if any. Restore the signing_keys table from a backup.`);
    const keys = new Map<string, SigningKey>();
    // Only the rows still there: a rotation deletes retired keys no grant needs.
    const opened = new Map<string, OpenedRow>();
    let signer: SigningKey | null = null;
    const newlyRefused: SigningKeyRefusal[] = [];
    // Every row is opened before any key changes: a row that stops the start leaves the keys as they were.
    for (const record of records) opened.set(record.rowId, await this.openedRow(record, newlyRefused));
    for (const record of records) {
      const key = opened.get(record.rowId)!.key;
      if (record.retiredAt === null && !key) {
        throw new SigningKeyError(
          `the active grant signing key "${record.rowId}" is refused (public_key_mismatch): its public key in the database is not the one its private key gives, so the row was altered outside a hub. Restore the row from a backup (nothing is signed until then).`,
        );
      }
      if (!key) continue;
      key.retiredAt = record.retiredAt;
      keys.set(key.kid, key);
      if (record.retiredAt === null) signer = key;
    }
    if (!signer) throw new SigningKeyError('the database holds no active grant signing key');
    this.keys = keys;
    this.opened = opened;
    for (const rowId of this.lastGrantExpiry.keys()) if (!opened.get(rowId)?.key) this.lastGrantExpiry.delete(rowId);
    this.signer = signer;
    for (const refusal of newlyRefused) this.refused(refusal);
  }

  /** The public key for a grant's `kid`; one not known here may make the keys be read again (`readForUnknownKid`). */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | null> {
    if (kid === undefined) return this.signer.publicKey;
    if (!this.keys.has(kid)) await this.readForUnknownKid();
    return this.keys.get(kid)?.publicKey ?? null;
  }

  /**
   * A `kid` not known here is a key another hub rotated to a moment ago, its announcement not yet
   * arrived, or one someone made up: anyone may send tokens, so these reads are bounded. Tokens arriving
   * while one runs wait for it; after it starts, none starts for `UNKNOWN_KID_READ_GAP_MS`, and a key
   * rotated within that is found by the rotation's announcement or the periodic read instead.
   */
  private readForUnknownKid(): Promise<void> {
    if (this.unknownKidRead) return this.unknownKidRead;
    const now = this.clock.now().getTime();
    // A clock set back (tests, or a correction) would otherwise hold every read off until it catches up.
    const since = now - this.unknownKidReadAt;
    if (since >= 0 && since < UNKNOWN_KID_READ_GAP_MS) return Promise.resolve();
    this.unknownKidReadAt = now;
    const read = this.refresh().finally(() => {
      this.unknownKidRead = null;
    });
    this.unknownKidRead = read;
    return read;
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
    const records = await signingKeyStore.all(trx);
    const plainOnly = onlyPlainText(records, this.kekFile);
    if (plainOnly) throw new SigningKeyError(`${plainOnly} Nothing is rotated. Restore the signing_keys table from a backup.`);
    const active = records.filter((key) => key.retiredAt === null);
    // Named by the key each private key gives (what its grants carry), never by the stored public key.
    const retired = await Promise.all(active.map(async (record) => (await this.unseal(record)).kid));
    const key = await this.newKey(newId('sgk', now), now);
    await signingKeyStore.retireActive(trx, now.toISOString());
    await signingKeyStore.insert(trx, key);
    await signingKeyStore.deleteUnneeded(trx, new Date(now.getTime() - KEEP_RETIRED_MS).toISOString(), now.toISOString());
    return { kid: await calculateJwkThumbprint(key.publicJwk), retired };
  }

  private async newKey(rowId: string, now: Date): Promise<NewSigningKeyRecord> {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const privateJwk = JSON.stringify(await exportJWK(pair.privateKey));
    return { rowId, storedPrivateKey: encryptPrivateKey(this.kek, rowId, privateJwk), publicJwk: await exportJWK(pair.publicKey), createdAt: now.toISOString(), retiredAt: null };
  }

  private async insertNew(rowId: string, now: Date): Promise<void> {
    await signingKeyStore.insertUnlessPresent(this.db, await this.newKey(rowId, now));
  }

  /** The row's key as opened before if the row has not changed since, else opened now (a refusal added to `refusals`). */
  private async openedRow(record: SigningKeyRecord, refusals: SigningKeyRefusal[]): Promise<OpenedRow> {
    const storedPublicJwk = JSON.stringify(record.publicJwk);
    const known = this.opened.get(record.rowId);
    if (known && known.storedPrivateKey === record.storedPrivateKey && known.storedPublicJwk === storedPublicJwk) return known;
    const opened = await this.open(record);
    if ('refusal' in opened) refusals.push(opened.refusal);
    return { storedPrivateKey: record.storedPrivateKey, storedPublicJwk, key: 'refusal' in opened ? null : opened };
  }

  /**
   * The key, its public half derived from the private key: the encryption authenticates the private
   * key (bound to its row), not the public column beside it, which anyone writing the database can set.
   * A row whose stored public key differs is refused, so no hub publishes or verifies with a key of
   * their choosing, and the difference is reported.
   */
  private async open(record: SigningKeyRecord): Promise<SigningKey | { refusal: SigningKeyRefusal }> {
    const { privateKey, publicJwk, kid } = await this.unseal(record);
    const storedKid = record.publicJwk ? await calculateJwkThumbprint(record.publicJwk).catch(() => null) : null;
    const storedNames = record.publicJwk?.kid;
    if (storedKid !== kid || (storedNames !== undefined && storedNames !== kid)) {
      const message = `the grant signing key "${record.rowId}" is not used: its public key in the database (${storedKid ?? 'not a key'}) is not the one its private key gives (${kid}), so the row was altered outside a hub`;
      return { refusal: { rowId: record.rowId, reason: 'public_key_mismatch', storedKid, kid, message } };
    }
    return {
      rowId: record.rowId,
      kid,
      privateKey,
      publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
      publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' },
      retiredAt: record.retiredAt,
    };
  }

  /** Decrypts the row's private key and derives its public key and `kid`; throws when this hub cannot. */
  private async unseal(record: SigningKeyRecord): Promise<{ privateKey: KeyObject; publicJwk: JWK; kid: string }> {
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
    const privateKey = createPrivateKey({ key: JSON.parse(privateText) as JsonWebKey, format: 'jwk' });
    const { kty, crv, x } = createPublicKey(privateKey).export({ format: 'jwk' });
    const publicJwk: JWK = { kty, crv, x };
    return { privateKey, publicJwk, kid: await calculateJwkThumbprint(publicJwk) };
  }
}

/**
 * Why a table of plain-text keys only is not used by a running hub, or null: it holds an encrypted key
 * (a plain-text one beside it is refused when opened), or none. A hub seals every key it writes, and
 * seals an older hub's at its start, so plain-text keys alone appearing later are someone else's.
 */
function onlyPlainText(records: readonly SigningKeyRecord[], kekFile: string): string | null {
  if (records.length === 0 || records.some((record) => isEncrypted(record.storedPrivateKey))) return null;
  const rows = records.map((record) => `"${record.rowId}"`).join(', ');
  return `the database now holds only grant signing keys stored in plain text (${rows}), and no encrypted one: a hub seals every key it writes with ${kekFile}, so these were put in the database outside a hub; they are neither sealed nor used.`;
}

/**
 * Keys stored in plain text are from before keys were encrypted: when every key is, they are sealed
 * in place, all in one transaction, so a start that dies half-way leaves none sealed rather than a mix
 * the next start would refuse. Once any key is encrypted, a plain-text one can only have been written
 * by someone with the database and without the key-encryption key: it is never sealed, nor used. Nor
 * are plain-text keys alone once this key-encryption key has held sealed ones (`sealed`, kept beside
 * its file): someone who can write the database could otherwise delete every key and put in their own.
 * Hubs starting together each seal what they read; a row another hub sealed first is left as it is.
 */
async function sealLegacyKeys(db: Kysely<Database>, kek: Buffer, kekFile: string, sealed: SealedKeysMemory): Promise<number> {
  // Read before the rows: a hub beside this one writes it only once its sealing has committed, so
  // when it is found here the rows read next are sealed ones.
  const sealedSince = sealed.sealedSince();
  return db.transaction().execute(async (trx) => {
    const records = await signingKeyStore.all(trx);
    if (records.length === 0 || records.some((record) => isEncrypted(record.storedPrivateKey))) return 0;
    if (sealedSince !== null) {
      const rows = records.map((record) => `"${record.rowId}"`).join(', ');
      throw new SigningKeyError(
        `the database holds only grant signing keys stored in plain text (${rows}), yet the key-encryption key ${kekFile} has held sealed ones (since ${sealedSince}, as ${sealed.file} records). A hub writes every key sealed, so these were put in the database outside a hub, perhaps to have a key of someone's choosing published and signing grants: they are neither sealed nor used, and nothing is signed. Restore the signing_keys table from a backup. Only if this really is a database from before keys were encrypted, sharing that key file with another database, delete ${sealed.file} and start again: the hub then seals these keys and signs with them.`,
      );
    }
    // Sealed without that memory, they could not be told later from keys someone swapped in: nothing is sealed until it can be written.
    const unwritable = sealed.unwritable();
    if (unwritable) {
      const rows = records.map((record) => `"${record.rowId}"`).join(', ');
      throw new SigningKeyError(
        `the database holds grant signing keys an older hub stored in plain text (${rows}), and this hub seals them only once it can record that beside its key-encryption key, but it cannot write ${sealed.file} (${unwritable}). Nothing is sealed or signed. Let the hub's user write to ${path.dirname(sealed.file)} for this start: it seals the keys and writes that file, and afterwards only reads it. Do not create the file yourself first: it would say these keys were sealed before, and the hub would refuse them as someone else's.`,
      );
    }
    for (const record of records) {
      await signingKeyStore.replacePrivateKey(trx, record.rowId, record.storedPrivateKey, encryptPrivateKey(kek, record.rowId, record.storedPrivateKey));
    }
    return records.length;
  });
}
