import { z } from 'zod';

export const AUDIT_TYPES = [
  'request.submitted',
  'request.vote',
  'request.approved',
  'request.denied',
  'request.cancelled',
  'request.escalated',
  'request.expired',
  'request.claimed',
  'request.released',
  'grant.issued',
  'grant.redeemed',
  'grant.revoked',
  'grant.expired',
  'user.created',
  'user.disabled',
  'policy.loaded',
  'policy.rejected',
  'auth.failed',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export const auditEventSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  type: z.enum(AUDIT_TYPES),
  requestId: z.string().nullable(),
  action: z.string().nullable(),
  resource: z.string().nullable(),
  environment: z.string().nullable(),
  outcome: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

const isoDate = z.string().refine((text) => !Number.isNaN(Date.parse(text)), { message: 'expected an ISO-8601 date' });

export const auditQuerySchema = z.strictObject({
  from: isoDate.optional(),
  to: isoDate.optional(),
  actor: z.string().max(128).optional(),
  action: z.string().max(128).optional(),
  resource: z.string().max(256).optional(),
  type: z.enum(AUDIT_TYPES).optional(),
  outcome: z.string().max(64).optional(),
  q: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(64).optional(),
  format: z.enum(['json', 'jsonl', 'csv']).default('json'),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditPageSchema = z.object({ events: z.array(auditEventSchema), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof auditPageSchema>;
