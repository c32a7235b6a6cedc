import { z } from 'zod';

/**
 * What was approved, as the target system is about to do it: compared with the grant's `payloadHash`
 * (SHA-256 of the canonical JSON of these four members; the README gives the recipe).
 */
export const grantPayloadSchema = z.strictObject({
  action: z.string(),
  resource: z.string(),
  environment: z.string(),
  /** The request's `context` as it was sent; `{}` when it had none. */
  context: z.record(z.string(), z.unknown()).default({}),
});
export type GrantPayload = z.infer<typeof grantPayloadSchema>;

export const grantTokenInputSchema = z.strictObject({ token: z.string().min(1).max(8192), payload: grantPayloadSchema.optional() });
export type GrantTokenInput = z.infer<typeof grantTokenInputSchema>;

/**
 * A redeem may carry a key the caller makes once per use of the grant and sends again when it retries
 * (an answer lost on the way back): the same key gets the same answer rather than ALREADY_REDEEMED.
 */
export const redeemInputSchema = grantTokenInputSchema.extend({
  redemptionKey: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{16,128}$/, 'must be 16 to 128 letters, digits or . _ ~ -: a random value made once per use of the grant, sent again only when that use is retried')
    .optional(),
});

export const grantClaimsSchema = z.object({
  jti: z.string(),
  requestId: z.string(),
  requester: z.string(),
  action: z.string(),
  resource: z.string(),
  environment: z.string(),
  payloadHash: z.string(),
  notBefore: z.string(),
  expiresAt: z.string(),
  /** Approvals given on someone's behalf under a delegation: who gave them, for whom. */
  obo: z.array(z.object({ by: z.string(), for: z.string() })).optional(),
  /** Issued by break-glass, without an approval: reviewed afterwards. */
  bg: z.boolean().optional(),
});
export type GrantClaims = z.infer<typeof grantClaimsSchema>;

/**
 * `not_yet_valid`: before its start (`grant.notBefore`); `malformed`: not a signed token at all (a typo, a truncated paste);
 * `bad_signature`: a token, but not signed by this hub; `payload_mismatch`: a genuine grant, for something other than the `payload` given.
 */
export const VERIFY_REASONS = ['not_yet_valid', 'expired', 'revoked', 'redeemed', 'bad_signature', 'malformed', 'unknown', 'payload_mismatch'] as const;
export type VerifyReason = (typeof VERIFY_REASONS)[number];

export const verifyResultSchema = z.object({
  valid: z.boolean(),
  reason: z.enum(VERIFY_REASONS).optional(),
  /** Null for `bad_signature`, `malformed` and `unknown`: what a token the hub did not issue claims is no fact to pass on. */
  grant: grantClaimsSchema.nullable(),
  /** A redeem's answer: when the grant was used (earlier, for a retry with the same `redemptionKey`). */
  redeemedAt: z.string().optional(),
  /** A redeem's answer to a retry with the first attempt's `redemptionKey`: no new use was made, the earlier one is reported. */
  repeated: z.literal(true).optional(),
});
export type VerifyResult = z.infer<typeof verifyResultSchema>;
