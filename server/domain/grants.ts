import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { Transaction } from 'kysely';
import { GRANT_EXPIRY_NOTICE_SECONDS, GreenlightError, grantTokenInputSchema, parseOrThrow, redeemInputSchema, type GrantTokenInput, type GrantClaims, type GreenlightRequest, type VerifyResult } from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { Database } from '../store/schema.js';
import { requestStore, type RequestRecord } from '../store/requests.js';
import { grantStore, type GrantState } from '../store/grants.js';
import { deadlineStore } from '../store/deadlines.js';
import { audit, inTransaction, type Context } from './context.js';
import { nobody } from './audience.js';
import { actsAsAdmin, SYSTEM_ACTOR_NAME, type Actor } from './actor.js';
import { buildView, isEligibleApprover, viewReader } from './request-view.js';
import { signCompactJws } from './jws.js';
import { auditFields, transition } from './lifecycle/transition.js';
import { loadRequestRow } from './lifecycle/expiry.js';
import { enqueueChatRefresh, enqueueNotifications } from '../notify/enqueue.js';
import { outsideWindow, plannedAccess } from './time/schedule.js';
import { readBackRefusal } from './read-back.js';
import { auditRepeatedRedemption, redemptionKeyHash, repeatedRedemption } from './redemption-retry.js';
import { payloadHash, payloadHashOf } from './payload-hash.js';

const ISSUER = 'greenlight';

/** A grant's change is a change of its request: clients keep the higher version. */
async function touchRequest(trx: Transaction<Database>, requestId: string, now: string): Promise<void> {
  await requestStore.bumpVersion(trx, requestId, now);
}

/** What a grant says beyond the request: approvals given on someone's behalf, break-glass. */
export interface GrantMarks {
  obo?: { by: string; for: string }[];
  /** Break-glass: the grant says so, and lives at most this long. */
  breakGlass?: { maxTtlSeconds: number };
}

/**
 * Issues the grant for an approved request inside the approving transaction. It is valid from the
 * later of now and the request's start, for its TTL (a break-glass grant at most its rule's
 * `maxTtl`), cut to the rule's windows; refused (the transaction rolls back) when that access
 * touches no window.
 */
export async function issueGrant(ctx: Context, trx: Transaction<Database>, row: RequestRecord, now: Date, marks: GrantMarks = {}): Promise<{ jti: string; expiresAt: string }> {
  const rule = row.rule;
  const planned = plannedAccess(row, rule, now);
  if (!planned.ok) throw outsideWindow(rule, planned.nextStart);
  const access = marks.breakGlass ? { interval: { start: planned.interval.start, end: Math.min(planned.interval.end, planned.interval.start + marks.breakGlass.maxTtlSeconds * 1000) } } : planned;
  const jti = newId('gnt', now);
  const issuedAt = Math.floor(now.getTime() / 1000);
  const notBefore = Math.floor(access.interval.start / 1000);
  const expiresAtSeconds = Math.floor(access.interval.end / 1000);
  const starts = new Date(notBefore * 1000);
  const expires = new Date(expiresAtSeconds * 1000);
  const ttl = expiresAtSeconds - notBefore;
  const hash = payloadHash(row);
  const signer = ctx.keys.current;
  const token = signCompactJws(
    { alg: 'EdDSA', kid: signer.kid, typ: 'JWT' },
    {
      rid: row.id,
      act: row.action,
      res: row.resource,
      env: row.environment,
      payloadHash: hash,
      iss: ISSUER,
      sub: row.requester_name,
      jti,
      iat: issuedAt,
      nbf: notBefore,
      exp: expiresAtSeconds,
      ...(marks.obo?.length ? { obo: marks.obo } : {}),
      ...(marks.breakGlass ? { bg: true } : {}),
    },
    signer.privateKey,
  );
  await grantStore.insert(trx, {
    jti,
    requestId: row.id,
    requesterId: row.requester_id,
    sealedToken: ctx.grantTokens.seal({ jti, requestId: row.id }, token),
    payloadHash: hash,
    issuedAt: now.toISOString(),
    notBefore: starts.toISOString(),
    expiresAt: expires.toISOString(),
    signingKey: signer.rowId,
  });
  await deadlineStore.insert(trx, [{ id: newId('ddl', now), kind: 'grant_expiry', requestId: row.id, grantJti: jti, step: null, dueAt: expires.toISOString() }]);
  // The requester hears before it ends; a grant shorter than the notice was just handed to them.
  if (ttl > GRANT_EXPIRY_NOTICE_SECONDS) {
    const notice = new Date(expires.getTime() - GRANT_EXPIRY_NOTICE_SECONDS * 1000).toISOString();
    await deadlineStore.insert(trx, [{ id: newId('ddl', now), kind: 'grant_expiring', requestId: row.id, grantJti: jti, step: null, dueAt: notice }]);
    ctx.deadlineWritten(notice);
  }
  await audit(ctx, trx, {
    actor: SYSTEM_ACTOR_NAME,
    type: 'grant.issued',
    ...auditFields(row),
    outcome: 'issued',
    data: { jti, requester: row.requester_name, payloadHash: hash, ttlSeconds: ttl, notBefore: starts.toISOString(), expiresAt: expires.toISOString(), ...(marks.obo?.length ? { obo: marks.obo } : {}) },
  });
  await enqueueNotifications(ctx, trx, 'grant.issued', row);
  return { jti, expiresAt: expires.toISOString() };
}

function claimsOf(payload: Record<string, unknown>): GrantClaims | null {
  const str = (key: string) => (typeof payload[key] === 'string' ? (payload[key] as string) : null);
  const num = (key: string) => (typeof payload[key] === 'number' ? (payload[key] as number) : null);
  const jti = str('jti');
  const nbf = num('nbf');
  const exp = num('exp');
  if (!jti || nbf === null || exp === null) return null;
  return {
    jti,
    requestId: str('rid') ?? '',
    requester: str('sub') ?? '',
    action: str('act') ?? '',
    resource: str('res') ?? '',
    environment: str('env') ?? '',
    payloadHash: str('payloadHash') ?? '',
    notBefore: new Date(nbf * 1000).toISOString(),
    expiresAt: new Date(exp * 1000).toISOString(),
    ...(payload.bg === true ? { bg: true } : {}),
    ...(Array.isArray(payload.obo) ? { obo: payload.obo.filter((entry): entry is { by: string; for: string } => typeof entry === 'object' && entry !== null && typeof (entry as { by?: unknown }).by === 'string' && typeof (entry as { for?: unknown }).for === 'string') } : {}),
  };
}

/** A recorded time as a JWT NumericDate, the second it falls in: a grant issued before scheduled starts recorded its start to the millisecond, its `nbf` in that second. */
const atSecond = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/**
 * Whether the token's `iat`, `nbf` and `exp` are the second its record was issued, starts and ends in.
 * The hub writes them as whole seconds (`issueGrant`), and `iat` is the approval's second, which the
 * record keeps to the millisecond. A fraction is refused, not rounded: `exp: 1700000000.0004` would
 * otherwise read as the recorded end while a target comparing numbers lets it in a moment longer.
 */
function timesAsIssued(grant: GrantState, payload: Record<string, unknown>): boolean {
  const second = (key: 'iat' | 'nbf' | 'exp') => {
    const value = payload[key];
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
  };
  return second('iat') === atSecond(grant.issuedAt) && second('nbf') === atSecond(grant.notBefore) && second('exp') === atSecond(grant.expiresAt);
}

/** The same approvals on someone's behalf, in any order (the grant lists them as the votes were read). */
function sameOnBehalf(recorded: { by: string; for: string }[], claimed: { by: string; for: string }[]): boolean {
  const key = (list: { by: string; for: string }[]) => JSON.stringify(list.map((entry) => [entry.by, entry.for]).sort());
  return recorded.length === claimed.length && key(recorded) === key(claimed);
}

/**
 * Whether the marks are as the hub writes them: `bg` only as `true`, `obo` only as a non-empty list
 * of `{by, for}` names. Anything else a target reading the token itself would take for something.
 */
function marksAsWritten(payload: Record<string, unknown>): boolean {
  if ('bg' in payload && payload.bg !== true) return false;
  if (!('obo' in payload)) return true;
  const obo = payload.obo;
  return Array.isArray(obo) && obo.length > 0 && obo.every((entry: unknown) => typeof entry === 'object' && entry !== null && Object.keys(entry).length === 2 && typeof (entry as { by?: unknown }).by === 'string' && typeof (entry as { for?: unknown }).for === 'string');
}

/**
 * Whether the grant's record says what the token says, for a request that was approved: a signature
 * proves only who holds a signing key, and the hub issues a token only with its record, in the
 * approving transaction. A token naming another request, requester, payload, action, issue time, span,
 * or other marks than its record (or a record whose request was never approved) is not one the hub issued.
 */
function issuedAs(grant: GrantState, claims: GrantClaims, payload: Record<string, unknown>): boolean {
  const request = grant.request;
  return (
    request !== null &&
    request.status === 'approved' &&
    grant.requestId === claims.requestId &&
    grant.payloadHash === claims.payloadHash &&
    request.action === claims.action &&
    request.resource === claims.resource &&
    request.environment === claims.environment &&
    request.requesterName === claims.requester &&
    timesAsIssued(grant, payload) &&
    request.breakGlass === (claims.bg === true) &&
    sameOnBehalf(grant.onBehalfOf, claims.obo ?? [])
  );
}

/** Why a grant can no longer be used, by its record at `now`; null while it can. */
function deadReason(grant: GrantState, now: string, expiredByTime: boolean): 'revoked' | 'redeemed' | 'expired' | null {
  if (grant.status === 'revoked') return 'revoked';
  if (grant.status === 'redeemed') return 'redeemed';
  if (grant.status === 'expired' || expiredByTime || grant.expiresAt <= now) return 'expired';
  // Disabling revokes a user's grants; one issued by a transaction that raced the disable is void all the same.
  if (grant.requesterDisabled) return 'revoked';
  return null;
}

/** Why a redeem is refused, as the error its caller gets; a start is quoted from the grant's record, never from the token. */
function redeemRefusal(reason: VerifyResult['reason'], record: Pick<GrantState, 'notBefore' | 'expiresAt'> | null): GreenlightError {
  if (reason === 'redeemed') return new GreenlightError('ALREADY_REDEEMED', 'This grant was already used; ask for a new approval.');
  if (reason === 'not_yet_valid' && record) {
    return new GreenlightError('NOT_YET_VALID', `This grant is not valid yet: it starts at ${record.notBefore} (until ${record.expiresAt}); redeem it then.`);
  }
  const why = reason ? WHY_UNUSABLE[reason] : 'the hub refused it; ask for a new approval';
  return new GreenlightError('GRANT_INVALID', `This grant cannot be used (${reason ?? 'invalid'}): ${why}.`);
}

/** What a redeem's caller is told of each refusal beside its code: what it means, and what to do. */
const WHY_UNUSABLE: Record<NonNullable<VerifyResult['reason']>, string> = {
  not_yet_valid: 'it is not valid yet; redeem it once it starts',
  expired: 'its time is over; ask for a new approval',
  revoked: 'it was revoked; ask for a new approval',
  redeemed: 'it was already used; ask for a new approval',
  bad_signature: 'it was not signed by this hub; redeem it at the hub that issued it',
  malformed: 'this is not a grant token (a grant is three dot-separated parts, eyJ…); check it was copied whole',
  unknown: 'it does not match any grant this hub issued; ask for a new approval',
  payload_mismatch: 'it was approved for another action, resource, environment or context than the one given; nothing was used',
};

/** Checks signature, the hub's record (issued as the token says; revoked, redeemed, expired), then the payload given, then its start. */
export async function verifyGrant(ctx: Context, input: unknown): Promise<VerifyResult> {
  // A payload from before the hub refused misleading text still hashes as it was approved.
  return (await checkGrant(ctx, parseOrThrow(grantTokenInputSchema, input, 'grant', { text: 'compared' }))).result;
}

/** The answer to a verify, with the grant's record when the token was found to be one the hub issued. */
async function checkGrant(ctx: Context, { token, payload }: GrantTokenInput): Promise<{ result: VerifyResult; record: GrantState | null }> {
  let decoded: Record<string, unknown>;
  let expiredByTime = false;
  let earlyByTime = false;
  try {
    decoded = (await jwtVerify(token, async (header) => (await ctx.keys.verificationKey(header.kid)) ?? Promise.reject(new joseErrors.JWKSNoMatchingKey()), { issuer: ISSUER, algorithms: ['EdDSA'], currentDate: ctx.clock.now() })).payload;
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) {
      expiredByTime = true;
      decoded = decodeJwt(token);
    } else if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf') {
      // Signed by this hub (jose checks the signature before the times), just used before its start.
      earlyByTime = true;
      decoded = decodeJwt(token);
    } else if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
      // Not three base64url parts with a JSON header: a typo or a truncated paste, not a forgery.
      return { result: { valid: false, reason: 'malformed', grant: null }, record: null };
    } else {
      return { result: { valid: false, reason: 'bad_signature', grant: null }, record: null };
    }
  }
  const claims = claimsOf(decoded);
  if (!claims) return { result: { valid: false, reason: 'malformed', grant: null }, record: null };
  const grant = await grantStore.stateOf(ctx.store.db, claims.jti);
  // Its claims are what whoever made it chose to write: answered as facts, a target would log them as such.
  if (!grant || !marksAsWritten(decoded) || !issuedAs(grant, claims, decoded)) return { result: { valid: false, reason: 'unknown', grant: null }, record: null };
  const now = ctx.clock.now().toISOString();
  const answer = (result: VerifyResult) => ({ result, record: grant });
  const dead = deadReason(grant, now, expiredByTime);
  if (dead) return answer({ valid: false, reason: dead, grant: claims });
  // After the dead states: a target told "payload_mismatch" about a grant already used or revoked logs the wrong reason.
  if (payload && payloadHashOf(payload) !== claims.payloadHash) return answer({ valid: false, reason: 'payload_mismatch', grant: claims });
  if (earlyByTime || grant.notBefore > now) return answer({ valid: false, reason: 'not_yet_valid', grant: claims });
  return answer({ valid: true, grant: claims });
}

/** Marks a valid grant used, exactly once even under concurrent redeems. */
export async function redeemGrant(ctx: Context, input: unknown): Promise<VerifyResult> {
  const { redemptionKey, ...tokenInput } = parseOrThrow(redeemInputSchema, input, 'grant', { text: 'compared' });
  const givenPayloadHash = tokenInput.payload && payloadHashOf(tokenInput.payload);
  const { result, record } = await checkGrant(ctx, tokenInput);
  if (!result.valid || !result.grant) {
    const repeat = await repeatedRedemption(ctx.store.db, result, record, redemptionKey, givenPayloadHash, ctx.clock.now().toISOString());
    if (repeat) {
      await inTransaction(ctx, (trx) => auditRepeatedRedemption(ctx, trx, repeat));
      return repeat;
    }
    throw redeemRefusal(result.reason, record);
  }
  const claims = result.grant;
  const redeemed = await inTransaction(ctx, async (trx): Promise<{ requestId: string; at: string } | { repeat: VerifyResult }> => {
    const now = ctx.clock.now().toISOString();
    // The write checks again what may have changed since: a redeem, revoke or expiry, a disable of its
    // requester, and an end the audit log records though the row says otherwise.
    if (!(await grantStore.redeem(trx, claims.jti, claims.requestId, now))) {
      const grant = await grantStore.stateOf(trx, claims.jti);
      const dead = grant ? deadReason(grant, now, false) : 'unknown';
      // The same use retried at once, its first try having just won the race.
      const repeat = await repeatedRedemption(trx, { valid: false, reason: dead ?? undefined, grant: claims }, grant ?? null, redemptionKey, givenPayloadHash, now);
      if (repeat) {
        await auditRepeatedRedemption(ctx, trx, repeat);
        return { repeat };
      }
      if (dead === null) {
        // Its row says it may be used, but the log ended it: the row was set back by hand, and the log is the evidence.
        const ended = await grantStore.endInLog(trx, claims.requestId);
        if (ended?.type === 'grant.redeemed') throw new GreenlightError('ALREADY_REDEEMED', `This grant was already used (the audit log records its redemption at ${ended.at}); ask for a new approval.`);
        if (ended) throw new GreenlightError('GRANT_INVALID', `This grant cannot be used: the audit log records it ${ended.type === 'grant.revoked' ? 'revoked' : 'expired'} at ${ended.at}.`);
      }
      // Active, within its span, its requester enabled and not ended in the log would have been redeemed: what is left is its start.
      throw redeemRefusal(dead ?? 'not_yet_valid', grant ?? null);
    }
    await deadlineStore.closeOfGrant(trx, claims.jti);
    await touchRequest(trx, claims.requestId, now);
    await audit(ctx, trx, {
      actor: claims.requester,
      type: 'grant.redeemed',
      requestId: claims.requestId,
      action: claims.action,
      resource: claims.resource,
      environment: claims.environment,
      outcome: 'redeemed',
      data: redemptionKey === undefined ? { jti: claims.jti } : { jti: claims.jti, redemptionKeyHash: redemptionKeyHash(redemptionKey) },
    });
    return { requestId: claims.requestId, at: now };
  });
  if ('repeat' in redeemed) return redeemed.repeat;
  await announceGrantChange(ctx, redeemed.requestId);
  return { valid: true, grant: claims, redeemedAt: redeemed.at };
}

/** Ends a grant early: the requester, an approver of the request, or an admin. */
export async function revokeGrant(ctx: Context, actor: Actor, jti: string): Promise<GreenlightRequest> {
  const { requestId, extensions } = await inTransaction(ctx, async (trx) => {
    const grant = await grantStore.byJti(trx, jti);
    if (!grant) throw new GreenlightError('NOT_FOUND', `No grant ${jti}.`);
    const request = await requestStore.existing(trx, grant.requestId);
    const asDecider = actsAsAdmin(actor) || (actor.scopes.includes('requests:decide') && isEligibleApprover(request, actor));
    if (!asDecider && request.requester_id !== actor.id) throw new GreenlightError('FORBIDDEN', 'Only the requester, an approver of this request or an admin can revoke its grant.');
    // As its requester: a token made only to submit acts only on what it submitted itself.
    const unreadable = asDecider ? null : readBackRefusal(actor, request);
    if (unreadable) throw unreadable;
    if (grant.status !== 'active') throw new GreenlightError('CONFLICT', `This grant is already ${grant.status}.`);
    const now = ctx.clock.now().toISOString();
    await revokeIn(ctx, trx, request, jti, actor.name, now, {});
    return { requestId: request.id, extensions: await endExtensionsOf(ctx, trx, jti, actor.name, now) };
  });
  for (const id of extensions) await announceGrantChange(ctx, id);
  return announceGrantChange(ctx, requestId, actor);
}

/**
 * Revokes every grant of a requester still active, with the extensions they carry; `why` goes in each
 * audit event. Returns the requests whose grants changed.
 */
export async function revokeGrantsOf(ctx: Context, trx: Transaction<Database>, requesterId: string, by: string, why: string): Promise<string[]> {
  const changed: string[] = [];
  const now = ctx.clock.now().toISOString();
  for (const grant of await grantStore.activeOfRequester(trx, requesterId)) {
    // An earlier grant's extension chain may already have taken this one.
    if ((await grantStore.statusOf(trx, grant.jti)) !== 'active') continue;
    const request = await requestStore.existing(trx, grant.requestId);
    await revokeIn(ctx, trx, request, grant.jti, by, now, { why });
    changed.push(request.id, ...(await endExtensionsOf(ctx, trx, grant.jti, by, now)));
  }
  return changed;
}

/** Revokes one grant still active: audited, its deadlines closed, its request's channels told. */
async function revokeIn(ctx: Context, trx: Transaction<Database>, request: RequestRecord, jti: string, by: string, now: string, data: Record<string, unknown>): Promise<void> {
  // Checked again by the write itself: a redeem or another revoke may have come between.
  if (!(await grantStore.revoke(trx, jti, now, by))) throw new GreenlightError('CONFLICT', `This grant is already ${(await grantStore.statusOf(trx, jti)) ?? 'gone'}.`);
  await deadlineStore.closeOfGrant(trx, jti);
  await touchRequest(trx, request.id, now);
  await audit(ctx, trx, { actor: by, type: 'grant.revoked', ...auditFields(request), outcome: 'revoked', data: { jti, ...data } });
  if (ctx.outbox?.endpoints.size) {
    const row = await loadRequestRow(trx, request.id);
    await enqueueNotifications(ctx, trx, 'grant.revoked', row);
    // Chat messages say "grant until …": they now say it was revoked.
    await enqueueChatRefresh(ctx, trx, row);
  }
}

/**
 * A revoked grant takes its extensions with it, or access would come back when the revoked one
 * was due to end: a pending extension is cancelled, an approved one's grant (valid from that end)
 * revoked, and so on down the chain. Returns the extension requests it changed.
 */
async function endExtensionsOf(ctx: Context, trx: Transaction<Database>, jti: string, by: string, now: string): Promise<string[]> {
  const changed: string[] = [];
  for (let extended = jti; ; ) {
    const live = await requestStore.liveExtensionOf(trx, extended);
    if (!live) return changed;
    const extension = await requestStore.existing(trx, live.id);
    if (extension.status === 'pending') {
      await transition(ctx, trx, extension, 'cancel', { actor: by, data: { reason: `the grant it extends (${extended}) was revoked` } });
      changed.push(extension.id);
      return changed;
    }
    const grant = await grantStore.ofRequest(trx, extension.id);
    if (grant?.status !== 'active') return changed;
    await revokeIn(ctx, trx, extension, grant.jti, by, now, { extends: extended });
    changed.push(extension.id);
    extended = grant.jti;
  }
}

export async function expireGrant(ctx: Context, trx: Transaction<Database>, jti: string): Promise<string | null> {
  const now = ctx.clock.now().toISOString();
  const grant = await grantStore.byJti(trx, jti);
  if (!grant || grant.status !== 'active') return null;
  if (!(await grantStore.expire(trx, jti))) return null;
  await touchRequest(trx, grant.requestId, now);
  const request = await requestStore.existing(trx, grant.requestId);
  await audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'grant.expired', ...auditFields(request), outcome: 'expired', data: { jti, expiresAt: grant.expiresAt, at: now } });
  return grant.requestId;
}

/** A grant still unused nears its end: audited, announced on the rule's channels; returns its request and expiry when it applied. */
export async function grantExpiring(ctx: Context, trx: Transaction<Database>, jti: string): Promise<{ requestId: string; expiresAt: string } | null> {
  const grant = await grantStore.byJti(trx, jti);
  if (!grant || grant.status !== 'active') return null;
  const request = await loadRequestRow(trx, grant.requestId);
  await audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'grant.expiring', ...auditFields(request), outcome: 'expiring', data: { jti, expiresAt: grant.expiresAt } });
  await enqueueNotifications(ctx, trx, 'grant.expiring', request);
  return { requestId: request.id, expiresAt: grant.expiresAt };
}

async function announceGrantChange(ctx: Context, requestId: string, viewer?: Actor): Promise<GreenlightRequest> {
  const row = await requestStore.existing(ctx.store.db, requestId);
  const full = await buildView(viewReader(ctx), row, { id: row.requester_id });
  ctx.bus.emit({ type: 'request.updated', request: full, notify: nobody() });
  return viewer && viewer.id !== row.requester_id ? buildView(viewReader(ctx), row, viewer) : full;
}
