import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import { GRANT_STATUSES } from '../../protocol/index.js';
import { z } from 'zod';
import { decodeOneOf, readStoredJson } from './json.js';
import type { Database, GrantsTable } from './schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** A grant as the hub works with it: its status one of the known ones, its columns named as the domain names them. */
export interface GrantRecord {
  jti: string;
  requestId: string;
  requesterId: string;
  /** The signed token as stored: sealed (`GrantTokenSeal`); only its requester ever sees it opened. */
  sealedToken: string;
  payloadHash: string;
  issuedAt: string;
  notBefore: string;
  expiresAt: string;
  status: GrantStatus;
  redeemedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  /** The signing_keys row that signed it (null: written before keys rotated). */
  signingKey: string | null;
}

/** A request's approvals a delegate cast for someone, as `issueGrant` named them in the grant (`decisionStore.approvalsOnBehalf`). */
function onBehalf<Q extends SelectQueryBuilder<Database, 'decisions', object>>(from: Q) {
  return from.where('decisions.decision', '=', 'approve').where('decisions.delegate_name', 'is not', null);
}

const redemptionData = z.object({ redemptionKeyHash: z.string().optional() });

/** The audit events that end a grant: redeem's guard and verify's replay read the same ones. */
export const GRANT_END_EVENTS = ['grant.redeemed', 'grant.revoked', 'grant.expired'] as const;

function endsInLog<Q extends SelectQueryBuilder<Database, 'audit_events', object>>(from: Q, requestId: string) {
  return from.select('seq').where('request_id', '=', requestId).where('type', 'in', GRANT_END_EVENTS);
}

/** A grant's record as verifying a token reads it: the grant, its request as it stands, and its requester's standing. */
export interface GrantState extends Pick<GrantRecord, 'status' | 'issuedAt' | 'notBefore' | 'expiresAt' | 'requestId' | 'payloadHash'> {
  requesterDisabled: boolean;
  /** Null: the grant's request is not in the database. */
  request: {
    status: string;
    action: string;
    resource: string;
    environment: string;
    /** Who asked, as the request recorded them at submission (a user's name may change since). */
    requesterName: string;
    /** Used by break-glass: it has a review, and its grant says `bg`. */
    breakGlass: boolean;
  } | null;
  /** The approvals a delegate gave on someone's behalf, which its grant names (`obo`); none when nobody did. */
  onBehalfOf: { by: string; for: string }[];
}

/** A status the hub never writes is a damaged database, and says so. */
export const decodeGrantStatus = decodeOneOf(GRANT_STATUSES, 'grant status');

export function toGrantRecord(row: GrantsTable): GrantRecord {
  return {
    jti: row.jti,
    requestId: row.request_id,
    requesterId: row.requester_id,
    sealedToken: row.token,
    payloadHash: row.payload_hash,
    issuedAt: row.issued_at,
    notBefore: row.not_before,
    expiresAt: row.expires_at,
    status: decodeGrantStatus(row.status),
    redeemedAt: row.redeemed_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    signingKey: row.signing_key ?? null,
  };
}

/** The grants (table `grants`): rows in, typed records out. */
export const grantStore = {
  /** A new grant, active until it is redeemed, revoked or expires. */
  async insert(db: Executor, grant: Pick<GrantRecord, 'jti' | 'requestId' | 'requesterId' | 'sealedToken' | 'payloadHash' | 'issuedAt' | 'notBefore' | 'expiresAt' | 'signingKey'>): Promise<void> {
    await db
      .insertInto('grants')
      .values({
        jti: grant.jti,
        request_id: grant.requestId,
        requester_id: grant.requesterId,
        token: grant.sealedToken,
        payload_hash: grant.payloadHash,
        issued_at: grant.issuedAt,
        not_before: grant.notBefore,
        expires_at: grant.expiresAt,
        status: 'active',
        redeemed_at: null,
        revoked_at: null,
        revoked_by: null,
        signing_key: grant.signingKey,
      })
      .execute();
  },

  async byJti(db: Executor, jti: string): Promise<GrantRecord | undefined> {
    const row = await db.selectFrom('grants').selectAll().where('jti', '=', jti).executeTakeFirst();
    return row && toGrantRecord(row);
  },

  /**
   * What verifying a token checks it against: its grant's record, that grant's request (null: none), whether
   * its requester has been disabled since, and what the grant was marked with when issued. The approvals
   * given on someone's behalf are read only for a request that has some, so most grants take one query.
   */
  async stateOf(db: Executor, jti: string): Promise<GrantState | undefined> {
    const row = await db
      .selectFrom('grants')
      .leftJoin('users', 'users.id', 'grants.requester_id')
      .leftJoin('requests', 'requests.id', 'grants.request_id')
      .leftJoin('break_glass_reviews', 'break_glass_reviews.request_id', 'grants.request_id')
      .select(['grants.status', 'grants.issued_at', 'grants.not_before', 'grants.expires_at', 'grants.request_id', 'grants.payload_hash', 'users.disabled'])
      .select(['requests.status as request_status', 'requests.action', 'requests.resource', 'requests.environment', 'requests.requester_name', 'break_glass_reviews.request_id as reviewed_request'])
      .select((eb) => eb.exists(onBehalf(eb.selectFrom('decisions').select('decisions.request_id').whereRef('decisions.request_id', '=', 'grants.request_id'))).as('delegated'))
      .where('grants.jti', '=', jti)
      .executeTakeFirst();
    if (!row) return undefined;
    const request =
      row.request_status === null || row.action === null || row.resource === null || row.environment === null || row.requester_name === null
        ? null
        : { status: row.request_status, action: row.action, resource: row.resource, environment: row.environment, requesterName: row.requester_name, breakGlass: row.reviewed_request !== null };
    const onBehalfOf = row.delegated ? (await onBehalf(db.selectFrom('decisions')).select(['approver_name', 'delegate_name']).where('decisions.request_id', '=', row.request_id).execute()).map((vote) => ({ by: vote.delegate_name ?? '', for: vote.approver_name })) : [];
    return { status: decodeGrantStatus(row.status), issuedAt: row.issued_at, notBefore: row.not_before, expiresAt: row.expires_at, requestId: row.request_id, payloadHash: row.payload_hash, requesterDisabled: Number(row.disabled) === 1, request, onBehalfOf };
  },

  async statusOf(db: Executor, jti: string): Promise<GrantStatus | undefined> {
    const row = await db.selectFrom('grants').select('status').where('jti', '=', jti).executeTakeFirst();
    return row && decodeGrantStatus(row.status);
  },

  /** The request a grant was issued for. */
  async requestIdOf(db: Executor, jti: string): Promise<string | undefined> {
    return (await db.selectFrom('grants').select('request_id').where('jti', '=', jti).executeTakeFirst())?.request_id;
  },

  /** The span a request's grant covers, if it has one. */
  async spanOfRequest(db: Executor, requestId: string): Promise<Pick<GrantRecord, 'notBefore' | 'expiresAt'> | undefined> {
    const row = await db.selectFrom('grants').select(['not_before', 'expires_at']).where('request_id', '=', requestId).executeTakeFirst();
    return row && { notBefore: row.not_before, expiresAt: row.expires_at };
  },

  async ofRequest(db: Executor, requestId: string): Promise<GrantRecord | undefined> {
    const row = await db.selectFrom('grants').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    return row && toGrantRecord(row);
  },

  /** The grants of these requests, in one query (keep the list inside the databases' bound-parameter limits). */
  async ofRequests(db: Executor, requestIds: string[]): Promise<GrantRecord[]> {
    return (await db.selectFrom('grants').selectAll().where('request_id', 'in', requestIds).execute()).map(toGrantRecord);
  },

  /** A requester's grants still active, started or not. */
  async activeOfRequester(db: Executor, requesterId: string): Promise<GrantRecord[]> {
    return (await db.selectFrom('grants').selectAll().where('requester_id', '=', requesterId).where('status', '=', 'active').execute()).map(toGrantRecord);
  },

  /**
   * Grants not yet expired whose token a hub from before sealing stored in plain (no `enc:` prefix),
   * whatever their status: a redeemed or revoked token still passes an offline signature check.
   */
  async unexpiredInPlain(db: Executor, now: string): Promise<(Pick<GrantRecord, 'jti' | 'requestId'> & { token: string })[]> {
    const rows = await db.selectFrom('grants').select(['jti', 'request_id', 'token']).where('expires_at', '>', now).where('token', 'not like', 'enc:%').execute();
    return rows.map((row) => ({ jti: row.jti, requestId: row.request_id, token: row.token }));
  },

  /** Replaces a grant's stored token, if it is still the one read (so a concurrent replacement is kept). */
  async replaceToken(db: Executor, jti: string, read: string, sealed: string): Promise<void> {
    await db.updateTable('grants').set({ token: sealed }).where('jti', '=', jti).where('token', '=', read).execute();
  },

  /**
   * Marks an active grant redeemed if it is within its span at `now`, its requester is not disabled
   * and the audit log has not already ended it; false when not (so exactly one concurrent redeem wins,
   * and a disable that lands after the token was checked still stops it). The log is asked in the same
   * statement, through the request's index, so a row set back to active by hand is refused without
   * another round trip.
   */
  async redeem(db: Executor, jti: string, requestId: string, now: string): Promise<boolean> {
    const updated = await db
      .updateTable('grants')
      .set({ status: 'redeemed', redeemed_at: now })
      .where('jti', '=', jti)
      .where('status', '=', 'active')
      .where('expires_at', '>', now)
      .where('not_before', '<=', now)
      .where(({ not, exists, selectFrom }) => not(exists(endsInLog(selectFrom('audit_events'), requestId))))
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('users').select('users.id').whereRef('users.id', '=', 'grants.requester_id').where('users.disabled', '!=', 0))))
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  },

  /** When the request's grant was redeemed, as the audit log records it, with the hash of the key that redeem carried, if any. */
  async redemptionInLog(db: Executor, requestId: string): Promise<{ at: string; keyHash: string | null } | undefined> {
    const row = await db.selectFrom('audit_events').select(['at', 'data']).where('request_id', '=', requestId).where('type', '=', 'grant.redeemed').orderBy('seq').executeTakeFirst();
    return row && { at: row.at, keyHash: readStoredJson(redemptionData, row.data)?.redemptionKeyHash ?? null };
  },

  /** The first event that ended the request's grant, if the audit log has one (there is one grant per request). */
  async endInLog(db: Executor, requestId: string): Promise<{ type: string; at: string } | undefined> {
    return endsInLog(db.selectFrom('audit_events'), requestId).select(['type', 'at']).orderBy('seq').executeTakeFirst();
  },

  /** Ends an active grant early; false when it was no longer active (a redeem or another revoke came first). */
  async revoke(db: Executor, jti: string, now: string, by: string): Promise<boolean> {
    const updated = await db.updateTable('grants').set({ status: 'revoked', revoked_at: now, revoked_by: by }).where('jti', '=', jti).where('status', '=', 'active').executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  },

  /** An active grant past its end; false when it was no longer active. */
  async expire(db: Executor, jti: string): Promise<boolean> {
    const updated = await db.updateTable('grants').set({ status: 'expired' }).where('jti', '=', jti).where('status', '=', 'active').executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  },

  /** For each of these signing keys that signed any grant: when the last of its grants expires. */
  async lastExpiryBySigningKey(db: Executor, signingKeys: string[]): Promise<Map<string, string>> {
    if (!signingKeys.length) return new Map();
    const rows = await db
      .selectFrom('grants')
      .select((eb) => ['signing_key', eb.fn.max('expires_at').as('last')])
      .where('signing_key', 'in', signingKeys)
      .groupBy('signing_key')
      .execute();
    return new Map(rows.flatMap((row) => (row.signing_key === null || row.last === null ? [] : [[row.signing_key, String(row.last)] as const])));
  },
};
