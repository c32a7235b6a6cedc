import { z } from 'zod';
import { identifierSchema, newRequestSchema, riskSchema } from './request.js';
import { userNameSchema } from './user.js';
import { accessWindowSchema } from './windows.js';

/** What `GET /api/v1/policy/explain` is asked: a request that has not been made yet. */
export const explainQuerySchema = z.strictObject({
  action: identifierSchema,
  resource: newRequestSchema.shape.resource,
  environment: identifierSchema,
  risk: riskSchema.default('medium'),
  /** Explain it as this user would be answered (admins only; default: the caller). */
  as: userNameSchema.optional(),
});
export type ExplainQuery = z.infer<typeof explainQuerySchema>;

export const explainedGroupSchema = z.object({
  group: z.string(),
  /** Approvals needed from this group (a `require:` line); null: any of `approvers` counts toward `minApprovals`. */
  count: z.number().int().nullable(),
  /** Active members who could decide, less the requester where the rule forbids self-approval. */
  members: z.array(z.string()),
});

export const explainedStepSchema = z.object({
  afterSeconds: z.number(),
  /** When the step would fire for a request made now. */
  at: z.string(),
  notify: z.array(z.string()),
});

export const policyExplanationSchema = z.object({
  matched: z.boolean(),
  rule: z.string().nullable(),
  /** One line for a person: "needs sre 1 + security 1; escalates to sre-leads in 10m". */
  summary: z.string(),
  autoApprove: z.boolean(),
  allowSelfApproval: z.boolean(),
  approvals: z.number().int(),
  groups: z.array(explainedGroupSchema),
  escalation: z.array(explainedStepSchema),
  expiresAt: z.string().nullable(),
  grantTtlSeconds: z.number().nullable(),
  /** The weekly windows a grant is cut to, as the rule writes them; empty: any time. */
  windows: z.array(accessWindowSchema),
  /** Break-glass under this rule, with its limits; `eligible`: whether the person it was explained for may use it. */
  breakGlass: z
    .object({ groups: z.array(z.string()), maxTtlSeconds: z.number(), cooldownSeconds: z.number(), reviewers: z.array(z.string()), eligible: z.boolean() })
    .nullable(),
  /** Rules before the match (or all, when nothing matches), each with the reason it does not apply. */
  skipped: z.array(z.object({ rule: z.string(), why: z.string() })),
});
export type PolicyExplanation = z.infer<typeof policyExplanationSchema>;
