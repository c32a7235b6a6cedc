import { createHash } from 'node:crypto';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { Transaction } from 'kysely';
import { GRANT_EXPIRY_NOTICE_SECONDS, GreenlightError, grantTokenInputSchema, parseOrThrow, type GrantClaims, type GreenlightRequest, type VerifyResult } from '../../protocol/index.js';
import { newId } from '../ids.js';
import type { Database, RequestsTable } from '../store/schema.js';
import { canonicalJson } from '../store/json.js';
import { audit, inTransaction, type Context } from './context.js';
import { nobody } from './audience.js';
import { isAdmin, SYSTEM_ACTOR_NAME, type Actor } from './actor.js';
import { buildView, isEligibleApprover, parseRule } from './request-view.js';
import { signCompactJws } from './jws.js';
import { auditFields } from './lifecycle/transition.js';
import { loadRequestRow } from './lifecycle/expiry.js';
import { enqueueNotifications } from '../notify/outbox.js';

const ISSUER = 'greenlight';

/** A grant's change is a change of its request: clients keep the higher version. */
async function touchRequest(trx: Transaction<Database>, requestId: string, now: string): Promise<void> {
  await trx
    .updateTable('requests')
    .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
    .where('id', '=', requestId)
    .execute();
}

/** SHA-256 of what was approved, so the thing executed can be checked against it. */
export function payloadHash(row: Pick<RequestsTable, 'action' | 'resource' | 'environment' | 'context'>): string {
  const body = canonicalJson({ action: row.action, resource: row.resource, environment: row.environment, context: JSON.parse(row.context) as unknown });
  return createHash('sha256').update(body).digest('hex');
}

/** Issues the grant for an approved request inside the approving transaction. */
/** What a grant says beyond the request: approvals given on someone's behalf. */
export interface GrantMarks {
  obo?: { by: string; for: string }[];
  /** Break-glass: the grant says so, and lives at most this long. */
  breakGlass?: { maxTtlSeconds: number };
}

export async function issueGrant(ctx: Context, trx: Transaction<Database>, row: RequestsTable, now: Date, marks: GrantMarks = {}): Promise<{ jti: string; expiresAt: string }> {
  const rule = parseRule(row);
  const ttl = Math.min(row.requested_ttl_seconds ?? rule.grantTtlSeconds, rule.grantTtlSeconds, marks.breakGlass?.maxTtlSeconds ?? Infinity);
  const jti = newId('gnt', now);
  const issuedAt = Math.floor(now.getTime() / 1000);
  const expires = new Date((issuedAt + ttl) * 1000);
  const hash = payloadHash(row);
  const token = signCompactJws(
    { alg: 'EdDSA', kid: ctx.keys.kid, typ: 'JWT' },
    { rid: row.id, act: row.action, res: row.resource, env: row.environment, payloadHash: hash, iss: ISSUER, sub: row.requester_name, jti, iat: issuedAt, nbf: issuedAt, exp: issuedAt + ttl, ...(marks.obo?.length ? { obo: marks.obo } : {}), ...(marks.breakGlass ? { bg: true } : {}) },
    ctx.keys.privateKey,
  );
  await trx
    .insertInto('grants')
    .values({
      jti,
      request_id: row.id,
      requester_id: row.requester_id,
      token,
      payload_hash: hash,
      issued_at: now.toISOString(),
      not_before: now.toISOString(),
      expires_at: expires.toISOString(),
      status: 'active',
      redeemed_at: null,
      revoked_at: null,
      revoked_by: null,
    })
    .execute();
  await trx.insertInto('deadlines').values({ id: newId('ddl', now), kind: 'grant_expiry', request_id: row.id, grant_jti: jti, step: null, due_at: expires.toISOString(), done: 0 }).execute();
  // The requester hears before it ends; a grant shorter than the notice was just handed to them.
  if (ttl > GRANT_EXPIRY_NOTICE_SECONDS) {
    const notice = new Date(expires.getTime() - GRANT_EXPIRY_NOTICE_SECONDS * 1000).toISOString();
    await trx.insertInto('deadlines').values({ id: newId('ddl', now), kind: 'grant_expiring', request_id: row.id, grant_jti: jti, step: null, due_at: notice, done: 0 }).execute();
    ctx.deadlineWritten(notice);
  }
  await audit(ctx, trx, {
    actor: SYSTEM_ACTOR_NAME,
    type: 'grant.issued',
    ...auditFields(row),
    outcome: 'issued',
    data: { jti, requester: row.requester_name, ttlSeconds: ttl, expiresAt: expires.toISOString(), ...(marks.obo?.length ? { obo: marks.obo } : {}) },
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

/** Checks signature, time and the hub's record (revoked, redeemed, expired). */
export async function verifyGrant(ctx: Context, input: unknown): Promise<VerifyResult> {
  const { token } = parseOrThrow(grantTokenInputSchema, input, 'grant');
  let claims: GrantClaims | null;
  let expiredByTime = false;
  try {
    const { payload } = await jwtVerify(token, ctx.keys.publicKey, { issuer: ISSUER, algorithms: ['EdDSA'], currentDate: ctx.clock.now() });
    claims = claimsOf(payload);
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) {
      expiredByTime = true;
      claims = claimsOf(decodeJwt(token));
    } else if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
      // Not three base64url parts with a JSON header: a typo or a truncated paste, not a forgery.
      return { valid: false, reason: 'malformed', grant: null };
    } else {
      return { valid: false, reason: 'bad_signature', grant: null };
    }
  }
  if (!claims) return { valid: false, reason: 'malformed', grant: null };
  const row = await ctx.store.db.selectFrom('grants').select(['status', 'expires_at']).where('jti', '=', claims.jti).executeTakeFirst();
  if (!row) return { valid: false, reason: 'unknown', grant: claims };
  if (row.status === 'revoked') return { valid: false, reason: 'revoked', grant: claims };
  if (row.status === 'redeemed') return { valid: false, reason: 'redeemed', grant: claims };
  if (row.status === 'expired' || expiredByTime || row.expires_at <= ctx.clock.now().toISOString()) return { valid: false, reason: 'expired', grant: claims };
  return { valid: true, grant: claims };
}

/** Marks a valid grant used, exactly once even under concurrent redeems. */
export async function redeemGrant(ctx: Context, input: unknown): Promise<VerifyResult> {
  const result = await verifyGrant(ctx, input);
  if (!result.valid || !result.grant) {
    if (result.reason === 'redeemed') throw new GreenlightError('ALREADY_REDEEMED', 'This grant was already used; ask for a new approval.');
    throw new GreenlightError('GRANT_INVALID', `This grant cannot be used: ${result.reason ?? 'invalid'}.`);
  }
  const claims = result.grant;
  const requestId = await inTransaction(ctx, async (trx) => {
    const now = ctx.clock.now().toISOString();
    const updated = await trx
      .updateTable('grants')
      .set({ status: 'redeemed', redeemed_at: now })
      .where('jti', '=', claims.jti)
      .where('status', '=', 'active')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      const row = await trx.selectFrom('grants').select('status').where('jti', '=', claims.jti).executeTakeFirst();
      if (row?.status === 'redeemed') throw new GreenlightError('ALREADY_REDEEMED', 'This grant was already used; ask for a new approval.');
      throw new GreenlightError('GRANT_INVALID', `This grant cannot be used: ${row?.status ?? 'unknown'}.`);
    }
    await trx.updateTable('deadlines').set({ done: 1 }).where('grant_jti', '=', claims.jti).execute();
    await touchRequest(trx, claims.requestId, now);
    await audit(ctx, trx, {
      actor: claims.requester,
      type: 'grant.redeemed',
      requestId: claims.requestId,
      action: claims.action,
      resource: claims.resource,
      environment: claims.environment,
      outcome: 'redeemed',
      data: { jti: claims.jti },
    });
    return claims.requestId;
  });
  await announceGrantChange(ctx, requestId);
  return { valid: true, grant: claims };
}

/** Ends a grant early: the requester, an approver of the request, or an admin. */
export async function revokeGrant(ctx: Context, actor: Actor, jti: string): Promise<GreenlightRequest> {
  const requestId = await inTransaction(ctx, async (trx) => {
    const grant = await trx.selectFrom('grants').selectAll().where('jti', '=', jti).executeTakeFirst();
    if (!grant) throw new GreenlightError('NOT_FOUND', `No grant ${jti}.`);
    const request = await trx.selectFrom('requests').selectAll().where('id', '=', grant.request_id).executeTakeFirstOrThrow();
    const allowed = isAdmin(actor) || request.requester_id === actor.id || isEligibleApprover(request, actor);
    if (!allowed) throw new GreenlightError('FORBIDDEN', 'Only the requester, an approver of this request or an admin can revoke its grant.');
    if (grant.status !== 'active') throw new GreenlightError('CONFLICT', `This grant is already ${grant.status}.`);
    const now = ctx.clock.now().toISOString();
    await trx.updateTable('grants').set({ status: 'revoked', revoked_at: now, revoked_by: actor.name }).where('jti', '=', jti).where('status', '=', 'active').execute();
    await trx.updateTable('deadlines').set({ done: 1 }).where('grant_jti', '=', jti).execute();
    await touchRequest(trx, request.id, now);
    await audit(ctx, trx, {
      actor: actor.name,
      type: 'grant.revoked',
      ...auditFields(request),
      outcome: 'revoked',
      data: { jti },
    });
    if (ctx.outbox?.endpoints.size) await enqueueNotifications(ctx, trx, 'grant.revoked', await loadRequestRow(trx, request.id));
    return request.id;
  });
  return announceGrantChange(ctx, requestId, actor);
}

export async function expireGrant(ctx: Context, trx: Transaction<Database>, jti: string): Promise<string | null> {
  const now = ctx.clock.now().toISOString();
  const grant = await trx.selectFrom('grants').selectAll().where('jti', '=', jti).executeTakeFirst();
  if (!grant || grant.status !== 'active') return null;
  await trx.updateTable('grants').set({ status: 'expired' }).where('jti', '=', jti).where('status', '=', 'active').execute();
  await touchRequest(trx, grant.request_id, now);
  const request = await trx.selectFrom('requests').select(['id', 'action', 'resource', 'environment']).where('id', '=', grant.request_id).executeTakeFirstOrThrow();
  await audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'grant.expired', ...auditFields(request), outcome: 'expired', data: { jti, expiresAt: grant.expires_at, at: now } });
  return grant.request_id;
}

/** A grant still unused nears its end: audited, announced on the rule's channels; returns its request and expiry when it applied. */
export async function grantExpiring(ctx: Context, trx: Transaction<Database>, jti: string): Promise<{ requestId: string; expiresAt: string } | null> {
  const grant = await trx.selectFrom('grants').selectAll().where('jti', '=', jti).executeTakeFirst();
  if (!grant || grant.status !== 'active') return null;
  const request = await loadRequestRow(trx, grant.request_id);
  await audit(ctx, trx, { actor: SYSTEM_ACTOR_NAME, type: 'grant.expiring', ...auditFields(request), outcome: 'expiring', data: { jti, expiresAt: grant.expires_at } });
  await enqueueNotifications(ctx, trx, 'grant.expiring', request);
  return { requestId: request.id, expiresAt: grant.expires_at };
}

async function announceGrantChange(ctx: Context, requestId: string, viewer?: Actor): Promise<GreenlightRequest> {
  const row = await ctx.store.db.selectFrom('requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow();
  const full = await buildView(ctx.store.db, row, { id: row.requester_id });
  ctx.bus.emit({ type: 'request.updated', request: full, notify: nobody() });
  return viewer && viewer.id !== row.requester_id ? buildView(ctx.store.db, row, viewer) : full;
}
