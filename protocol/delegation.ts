import { z } from 'zod';
import { requiredText } from './visible-text.js';
import { LIMITS } from './limits.js';
import { instantSchema } from './instant.js';

const name = z.string().min(1).max(LIMITS.userName);

/** The longest a delegation may reach ahead: a forgotten one should not hand approvals away for good. */
export const MAX_DELEGATION_DAYS = 30;

/** `POST /api/v1/delegations`: hand my approvals (or, as an admin, someone's) to one user for a window. */
export const newDelegationSchema = z.strictObject({
  to: name,
  /** Whose approvals; absent: the caller's. Admins only for someone else. */
  from: name.optional(),
  /** Absent: now. */
  startsAt: instantSchema.optional(),
  endsAt: instantSchema,
  /** Only requests under these policy rules; absent: every rule. */
  rules: z.array(z.string().min(1).max(LIMITS.identifier)).min(1).max(50).optional(),
  reason: requiredText(LIMITS.reason, 'say why, e.g. "holiday"'),
});
export type NewDelegation = z.input<typeof newDelegationSchema>;

export const delegationSchema = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  startsAt: z.string(),
  endsAt: z.string(),
  rules: z.array(z.string()).nullable(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  endedAt: z.string().nullable(),
  endedBy: z.string().nullable(),
  /** In force now: started, not past its end, not ended early. */
  active: z.boolean(),
});
export type Delegation = z.infer<typeof delegationSchema>;

export const delegationListSchema = z.object({ delegations: z.array(delegationSchema) });
export const delegationIdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a delegation id');

/** Someone whose approvals I may give now, as "waiting on me" needs them. */
export const actingForSchema = z.object({
  name: z.string(),
  groups: z.array(z.string()),
  roles: z.array(z.string()),
  /** Rule names the delegation covers; absent: all. */
  rules: z.array(z.string()).optional(),
});
export type ActingFor = z.infer<typeof actingForSchema>;
