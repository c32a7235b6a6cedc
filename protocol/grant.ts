import { z } from 'zod';

export const grantTokenInputSchema = z.strictObject({ token: z.string().min(1).max(8192) });

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

/** `malformed`: not a signed token at all (a typo, a truncated paste); `bad_signature`: a token, but not signed by this hub. */
export const VERIFY_REASONS = ['expired', 'revoked', 'redeemed', 'bad_signature', 'malformed', 'unknown'] as const;
export type VerifyReason = (typeof VERIFY_REASONS)[number];

export const verifyResultSchema = z.object({
  valid: z.boolean(),
  reason: z.enum(VERIFY_REASONS).optional(),
  grant: grantClaimsSchema.nullable(),
});
export type VerifyResult = z.infer<typeof verifyResultSchema>;
