import { z } from 'zod';
import { queryNumber } from './limits.js';

export const AUDIT_TYPES = [
  'request.submitted',
  'request.vote',
  'request.vote_withdrawn',
  'request.vote_narrowed',
  'request.approved',
  'request.denied',
  'request.cancelled',
  'request.escalated',
  'request.expired',
  'request.claimed',
  'request.released',
  'request.reminded',
  'request.escalation_repeated',
  'grant.issued',
  'grant.redeemed',
  'grant.redemption_repeated',
  'grant.revoked',
  'grant.expiring',
  'grant.expired',
  'user.created',
  'user.disabled',
  'user.updated',
  'user.enabled',
  'token.created',
  'token.revoked',
  'session.started',
  'policy.loaded',
  'policy.rejected',
  'auth.failed',
  'backup.created',
  'notification.dead',
  'notification.retried',
  'notification.endpoint_disabled',
  'notification.endpoint_enabled',
  'signing_key.rotated',
  'delegation.created',
  'delegation.ended',
  'delegation.expired',
  'request.break_glass',
  'request.reviewed',
  'request.review_overdue',
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

/** A calendar date, alone or with a time and its zone: what ISO-8601 writes, not everything `Date.parse` guesses at. */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:([T ])\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * A date the audit log's ISO-8601 text can be compared with: a four-digit year (an expanded
 * "+275760-…" year would compare as text and filter nothing), a day the month has (2026-02-30 is
 * refused, not read as March 2), a time only with its zone (without one it would be read in the
 * hub's zone, not the asker's), an instant between 1970 and 9999 in UTC, and nothing `Date.parse`
 * would guess at ("0", "12", "Dec 25 2026"). A date alone is that whole day in UTC.
 */
export const isoDate = z.string().superRefine((text, ctx) => {
  const parts = ISO_8601.exec(text);
  const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (!parts || Number.isNaN(Date.parse(text))) return problem('expected an ISO-8601 date between 1970 and 9999, such as 2026-12-01 or 2026-12-01T09:00:00Z');
  if (parts[4] !== undefined && parts[5] === undefined) return problem('give the time with its zone, such as 2026-12-01T09:00:00Z or 2026-12-01T10:00:00+01:00');
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const utcYear = new Date(Date.parse(parts[4] === undefined ? `${text}T00:00:00Z` : text)).getUTCFullYear();
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day || year < 1970 || utcYear < 1970 || utcYear > 9999) {
    return problem('expected an ISO-8601 date between 1970 and 9999, such as 2026-12-01 or 2026-12-01T09:00:00Z');
  }
});

/** A date without a time (`2026-12-07`): as a `to` bound it takes in that whole day. */
export const isDateOnly = (text: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(text);

/** Event numbers fit PostgreSQL's integer column: a larger one is no event at all. */
export const MAX_SEQ = 2_147_483_647;

export const auditQuerySchema = z.strictObject({
  from: isoDate.optional(),
  to: isoDate.optional(),
  actor: z.string().max(128).optional(),
  action: z.string().max(128).optional(),
  resource: z.string().max(256).optional(),
  /** `break_glass` is short for `request.break_glass`: the break-glass uses. */
  type: z.preprocess((value) => (value === 'break_glass' ? 'request.break_glass' : value), z.enum(AUDIT_TYPES).optional()),
  outcome: z.string().max(64).optional(),
  q: z.string().max(256).optional(),
  limit: queryNumber(z.number().int().min(1).max(1000).default(100)),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,9}$/, 'expected the nextCursor of an earlier page')
    .refine((text) => Number(text) <= MAX_SEQ, 'expected the nextCursor of an earlier page')
    .optional(),
  format: z.enum(['json', 'jsonl', 'csv']).default('json'),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

/**
 * An event as a client reads it. A type newer than this build stays text, shown as it is: with the
 * type checked against this build's list, one new kind of event (a hub upgraded first) failed the
 * whole page of history in every older desktop app.
 */
export const auditEventReadSchema = auditEventSchema.extend({ type: z.string() });
export type AuditEventRead = z.infer<typeof auditEventReadSchema>;

export const auditPageSchema = z.object({ events: z.array(auditEventReadSchema), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof auditPageSchema>;
