import { z } from 'zod';
import { durationSchema } from './duration.js';
import { groupNameSchema, userNameSchema } from './user.js';
import { identifierSchema, riskSchema } from './request.js';
import { notifyTargetSchema } from './notifications.js';
import { accessWindowSchema } from './windows.js';

const matchValue = z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1)]);

export const policyRuleSchema = z
  .strictObject({
    name: identifierSchema,
    match: z
      .strictObject({
        action: matchValue.optional(),
        resource: matchValue.optional(),
        environment: matchValue.optional(),
        risk: z.union([riskSchema, z.array(riskSchema).min(1)]).optional(),
      })
      .default({}),
    approvers: z.array(groupNameSchema).default([]),
    minApprovals: z.number().int().min(1).max(20).default(1),
    allowSelfApproval: z.boolean().default(false),
    escalation: z
      .array(
        z.strictObject({
          after: durationSchema,
          notify: z.array(z.union([groupNameSchema, userNameSchema])).min(1),
          /** Channels beyond the app that announce this step (its webhooks hear of the escalation too). */
          channels: z.array(notifyTargetSchema).optional(),
        }),
      )
      .default([]),
    expireAfter: durationSchema.optional(),
    grantTtl: durationSchema.default(900),
    claimHolds: durationSchema.default(600),
    autoApprove: z.boolean().default(false),
    /** How many requests one person may have waiting under this rule at once. */
    maxPending: z.number().int().min(1).max(1_000_000).default(50),
    /** Channels beyond the app where this rule's requests are announced; names are checked against the hub configuration. */
    notify: z.array(notifyTargetSchema).default([]),
    /** Re-notify approvers who have not acted this often, until the request is decided. */
    remind: durationSchema.optional(),
    /** false: chat messages offer only "Open in Greenlight", never Approve/Deny buttons. */
    chatApprove: z.boolean().default(true),
    /** After the last escalation step, run the chain again, at most this many more times. */
    repeat: z.number().int().min(0).max(10).default(0),
    /** How far ahead a requester may schedule access to start. */
    maxScheduleAhead: durationSchema.optional(),
    /** Access may only be used inside these weekly windows; grants are cut to them. */
    windows: z.array(accessWindowSchema).min(1, 'list at least one window, or leave windows out').optional(),
    /** A grant may be extended within its last `extendBefore`. */
    extendBefore: durationSchema.optional(),
    /** The first `autoApprove` extensions of a grant are approved at once; all extensions together last at most `maxTotal`. */
    extensions: z.strictObject({ autoApprove: z.number().int().min(0).max(100).default(0), maxTotal: durationSchema.optional() }).optional(),
    /** Lets high and critical risk requests be decided from an email link too (otherwise those ask for the console). */
    emailApprove: z.boolean().default(false),
  })
  .superRefine((rule, ctx) => {
    if (!rule.autoApprove && rule.approvers.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['approvers'], message: 'list at least one approver group, or set autoApprove: true' });
    }
    if (rule.remind !== undefined && rule.remind < 60) ctx.addIssue({ code: 'custom', path: ['remind'], message: 'remind at most every minute (1m or more)' });
    if (rule.repeat > 0 && rule.escalation.length === 0) ctx.addIssue({ code: 'custom', path: ['repeat'], message: 'repeat runs the escalation chain again: add escalation steps' });
    let previous = 0;
    rule.escalation.forEach((step, index) => {
      if (step.after <= previous && index > 0) {
        ctx.addIssue({ code: 'custom', path: ['escalation', index, 'after'], message: 'each escalation step must come after the previous one' });
      }
      previous = step.after;
    });
  });
export type PolicyRule = z.infer<typeof policyRuleSchema>;

export const policySchema = z
  .strictObject({ rules: z.array(policyRuleSchema).min(1, 'a policy needs at least one rule') })
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.rules.forEach((rule, index) => {
      if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', path: ['rules', index, 'name'], message: `duplicate rule name "${rule.name}"` });
      seen.add(rule.name);
    });
  });
export type Policy = z.infer<typeof policySchema>;

/** What the new-request form offers: one entry per rule, without the approver internals. */
export const policyOfferSchema = z.object({
  rule: z.string(),
  actions: z.array(z.string()),
  environments: z.array(z.string()),
  resources: z.array(z.string()),
  autoApprove: z.boolean(),
  minApprovals: z.number(),
  grantTtlSeconds: z.number(),
});
export type PolicyOffer = z.infer<typeof policyOfferSchema>;
