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
    /** Per-group quorum: every line must be met. Replaces `approvers` and `minApprovals`. */
    require: z.array(z.strictObject({ group: groupNameSchema, count: z.number().int().min(1).max(20) })).min(1).optional(),
    minApprovals: z.number().int().min(1).max(20).default(1),
    allowSelfApproval: z.boolean().default(false),
    escalation: z
      .array(
        z.strictObject({
          after: durationSchema({ refused: 'a step at 0s notifies as the request is made; name those groups in approvers instead' }),
          notify: z.array(z.union([groupNameSchema, userNameSchema])).min(1),
          /** Channels beyond the app that announce this step (its webhooks hear of the escalation too). */
          channels: z.array(notifyTargetSchema).optional(),
        }),
      )
      .default([]),
    expireAfter: durationSchema({ refused: 'a request would expire as it is made; leave expireAfter out for requests that wait until decided' }).optional(),
    grantTtl: durationSchema({ refused: 'a grant would end as it starts; leave grantTtl out for 15m' }).default(900),
    claimHolds: durationSchema({ refused: 'a claim would hold escalation for no time; leave claimHolds out for 10m' }).default(600),
    autoApprove: z.boolean().default(false),
    /** Access at once for an incident, for members of `groups`, reviewed afterwards by one of `reviewers`. */
    breakGlass: z
      .strictObject({
        groups: z.array(groupNameSchema).min(1),
        maxTtl: durationSchema({ refused: 'break-glass access would end as it starts; leave maxTtl out for 1h' }).default(3600),
        /** 0s: no cooldown. */
        cooldown: durationSchema('none').default(0),
        reviewers: z.array(groupNameSchema).min(1),
      })
      .optional(),
    /** How many requests one person may have waiting under this rule at once. */
    maxPending: z.number().int().min(1).max(1_000_000).default(50),
    /** Channels beyond the app where this rule's requests are announced; names are checked against the hub configuration. */
    notify: z.array(notifyTargetSchema).default([]),
    /** Re-notify approvers who have not acted this often, until the request is decided. */
    remind: durationSchema({ refused: 'leave remind out for no reminders' }).optional(),
    /** false: chat messages offer only "Open in Greenlight", never Approve/Deny buttons. */
    chatApprove: z.boolean().default(true),
    /** After the last escalation step, run the chain again, at most this many more times. */
    repeat: z.number().int().min(0).max(10).default(0),
    /** How far ahead a requester may schedule access to start. */
    maxScheduleAhead: durationSchema({
      refused: 'a requested start must lie ahead, so every notBefore (and every extension) would be refused; leave maxScheduleAhead out for 14d',
    }).optional(),
    /** Access may only be used inside these weekly windows; grants are cut to them. */
    windows: z.array(accessWindowSchema).min(1, 'list at least one window, or leave windows out').optional(),
    /** A grant may be extended within its last `extendBefore`. */
    extendBefore: durationSchema({ refused: 'no grant could ever be extended; to allow no extensions write extensions: { maxTotal: 0s }' }).optional(),
    /** The first `autoApprove` extensions of a grant are approved at once; all extensions together last at most `maxTotal` (0s: none at all). */
    extensions: z.strictObject({ autoApprove: z.number().int().min(0).max(100).default(0), maxTotal: durationSchema('none').optional() }).optional(),
    /** Lets high and critical risk requests be decided from an email link too (otherwise those ask for the console). */
    emailApprove: z.boolean().default(false),
  })
  .superRefine((rule, ctx) => {
    if (rule.require && rule.approvers.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['require'], message: 'require replaces approvers and minApprovals: list the groups as require lines only' });
    }
    rule.require?.forEach((line, index) => {
      if (rule.require?.findIndex((other) => other.group === line.group) !== index) {
        ctx.addIssue({ code: 'custom', path: ['require', index, 'group'], message: `group "${line.group}" has two lines; give it one line with the count it needs` });
      }
    });
    if (!rule.autoApprove && rule.approvers.length === 0 && !rule.require) {
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
