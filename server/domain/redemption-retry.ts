import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { VerifyResult } from '../../protocol/index.js';
import { audit, type Context } from './context.js';
import { grantStore, type GrantState } from '../store/grants.js';
import type { Database } from '../store/schema.js';

/** How a redemption key is kept in the audit log: hashed, so the log does not hand out a retry. */
export const redemptionKeyHash = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/**
 * The answer to a redeem retried with its first attempt's key, whose answer was lost on the way back:
 * the grant was redeemed by that very attempt (the log records the same key), it is still within its
 * span, its requester is still enabled and the payload given, if any, is the one approved. The caller
 * hears again that its use went through, rather than ALREADY_REDEEMED; null for anything else.
 */
export async function repeatedRedemption(
  db: Kysely<Database> | Transaction<Database>,
  refused: VerifyResult,
  record: GrantState | null,
  key: string | undefined,
  payloadHash: string | undefined,
  now: string,
): Promise<VerifyResult | null> {
  const claims = refused.grant;
  if (key === undefined || refused.reason !== 'redeemed' || !claims || !record) return null;
  if (record.requesterDisabled || record.expiresAt <= now || (payloadHash !== undefined && payloadHash !== claims.payloadHash)) return null;
  const redemption = await grantStore.redemptionInLog(db, claims.requestId);
  if (!redemption || redemption.keyHash !== redemptionKeyHash(key)) return null;
  return { valid: true, grant: claims, redeemedAt: redemption.at, repeated: true };
}

/** Writes down a retried redeem answered as its first use, so the log shows each time "valid" was said. */
export async function auditRepeatedRedemption(ctx: Context, trx: Transaction<Database>, repeat: VerifyResult): Promise<void> {
  const claims = repeat.grant;
  if (!claims) return;
  await audit(ctx, trx, {
    actor: claims.requester,
    type: 'grant.redemption_repeated',
    requestId: claims.requestId,
    action: claims.action,
    resource: claims.resource,
    environment: claims.environment,
    outcome: 'redeemed',
    data: { jti: claims.jti, redeemedAt: repeat.redeemedAt },
  });
}
