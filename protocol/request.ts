import { z } from 'zod';
import { LIMITS } from './limits.js';
import { formatDuration } from './duration.js';
import { hasUserInfo, safeHttpUrl } from './urls.js';
import { accessWindowSchema } from './windows.js';
import { instantSchema } from './instant.js';
import { lineProgressSchema, quorumLineSchema } from './quorum.js';
import { hasInvisible, isOneLine, lookalikeProblem, ONE_LINE_MESSAGE, requiredText, showsSomething, visibleLength } from './visible-text.js';

const utf8 = new TextEncoder();
const byteLimited = (max: number, what: string) =>
  // A UTF-16 code unit is at most three UTF-8 bytes: only a text that could be over is encoded to count.
  z.string().refine((text) => text.length <= max && (text.length * 3 <= max || utf8.encode(text).length <= max), {
    message: `${what} is larger than ${Math.round(max / 1024 / 1024)} MB; attach a link to the full ${what} instead`,
  });

/**
 * A name with "/" in it is still a name, but a `.` or `..` between slashes reads as a path step:
 * policy globs would not match it, so "prod/../eu" could slip past a rule for "prod*". Refused.
 */
const DOT_SEGMENT = /(^|\/)\.{1,2}(\/|$)/;
const noDotSegments = [(value: string) => !DOT_SEGMENT.test(value), { message: 'must not contain "." or ".." between slashes' }] as const;
/** "production/" would not match a rule for production, and could route past it to a looser one. */
const noTrailingSlash = [(value: string) => !value.endsWith('/'), { message: 'must not end with "/"' }] as const;

/** Letters, digits and `._:/-`, starting with a letter or digit: what actions and environments look like. */
export const identifierSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.identifier, `must be at most ${LIMITS.identifier} characters`)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, 'use letters, digits and . _ : / - only, starting with a letter or digit')
  .refine(...noDotSegments)
  .refine(...noTrailingSlash)
  .refine((value) => !value.includes('//'), { message: 'must not contain an empty segment ("//")' });

export const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export const riskSchema = z.enum(RISKS);
export type Risk = z.infer<typeof riskSchema>;
export const RISK_ORDER: Record<Risk, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export const httpUrlSchema = z
  .string()
  .max(LIMITS.url)
  .refine((value) => safeHttpUrl(value) !== null, { message: 'must be an http:// or https:// URL' })
  // https://github.com∕acme∕pr@evil.example/ reads as a GitHub path but goes to evil.example.
  .refine((value) => !hasUserInfo(value), { message: 'must not name a user or password before the host (…@host): it hides where the link goes' });

/** Context is kept exactly as sent (its hash is the grant's), so labels are checked, never trimmed. */
const seen = showsSomething;

export const linkSchema = z.strictObject({
  title: z.string().min(1).max(LIMITS.linkTitle).refine(seen, 'give the link a title a reader can see, e.g. "CI run"'),
  url: httpUrlSchema,
});
export type Link = z.infer<typeof linkSchema>;

export const requestContextSchema = z.strictObject({
  summary: z.string().max(LIMITS.summary).optional(),
  diff: byteLimited(LIMITS.diffBytes, 'diff').optional(),
  logs: byteLimited(LIMITS.logsBytes, 'log excerpt').optional(),
  links: z.array(linkSchema).max(LIMITS.links).optional(),
  fields: z
    .record(z.string().min(1).max(LIMITS.fieldKey).refine(seen, 'name the field with something a reader can see, e.g. "ticket"'), z.string().max(LIMITS.fieldValue))
    .refine((record) => Object.keys(record).length <= LIMITS.fields, {
      message: `at most ${LIMITS.fields} fields`,
    })
    .optional(),
});
export type RequestContext = z.infer<typeof requestContextSchema>;

/** When access should start: an RFC 3339 date-time with its offset, normalised to UTC. */
export const startTimeSchema = instantSchema;
/** A break-glass reason is read by reviewers after the fact, so it has to say something. */
export const BREAK_GLASS_MIN_REASON = 20;

/** What a requester sends to ask for something. Unknown fields are refused so typos surface. */
export const newRequestSchema = z.strictObject({
  action: identifierSchema,
  resource: z
    .string()
    .min(1, 'must not be empty')
    .max(LIMITS.resource)
    .regex(/^[^\s]+$/, 'must not contain spaces')
    .refine((value) => !hasInvisible(value), 'must not contain invisible characters (a zero-width space, a soft hyphen, a direction mark, a blank filler): the resource would look like another one')
    .superRefine((value, ctx) => {
      const problem = lookalikeProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .refine(...noDotSegments)
    .refine(...noTrailingSlash),
  environment: identifierSchema,
  reason: requiredText(LIMITS.reason, 'say why you need this'),
  risk: riskSchema.default('medium'),
  context: requestContextSchema.default({}),
  requestedTtlSeconds: z.number().int().min(1, 'must be at least 1 second').max(LIMITS.maxTtlSeconds, `must be at most ${formatDuration(LIMITS.maxTtlSeconds)}`).optional(),
  /** When access should start; absent: as soon as it is approved. */
  notBefore: startTimeSchema.optional(),
  idempotencyKey: z.string().min(1).max(LIMITS.idempotencyKey).optional(),
  /** Access at once for an incident, where the rule allows break-glass; reviewed afterwards. */
  breakGlass: z.strictObject({ incident: requiredText(LIMITS.identifier, 'name the incident, e.g. INC-4412').refine(isOneLine, ONE_LINE_MESSAGE) }).optional(),
}).superRefine((request, ctx) => {
  // Checked on what is submitted only: a request stored before this rule must still be readable.
  (request.context.links ?? []).forEach((link, index) => {
    if (!isOneLine(link.title)) ctx.addIssue({ code: 'custom', path: ['context', 'links', index, 'title'], message: ONE_LINE_MESSAGE });
  });
  for (const key of Object.keys(request.context.fields ?? {})) {
    if (!isOneLine(key)) ctx.addIssue({ code: 'custom', path: ['context', 'fields', key], message: `field names ${ONE_LINE_MESSAGE}` });
  }
  if (request.breakGlass && visibleLength(request.reason) < BREAK_GLASS_MIN_REASON) {
    ctx.addIssue({ code: 'custom', path: ['reason'], message: `break-glass needs a reason of at least ${BREAK_GLASS_MIN_REASON} characters: reviewers read it` });
  }
});
export type NewRequest = z.input<typeof newRequestSchema>;
export type ParsedNewRequest = z.infer<typeof newRequestSchema>;

export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;
export const requestStatusSchema = z.enum(REQUEST_STATUSES);
export type RequestStatus = z.infer<typeof requestStatusSchema>;

export const decisionKindSchema = z.enum(['approve', 'deny']);
export type DecisionKind = z.infer<typeof decisionKindSchema>;

export const decisionInputSchema = z.strictObject({
  decision: decisionKindSchema,
  comment: z.string().max(LIMITS.comment).optional(),
  /** On approve: when access starts instead of the requested start (the latest change wins). */
  notBefore: startTimeSchema.optional(),
  /**
   * Decide as this approver's delegate; absent: as yourself, or when you can't, for a delegator who
   * could (the earliest delegation, when several could). The app and Slack ask a delegate of several
   * whom; the CLI's `--for` and such a delegate's per-approver email links name them.
   */
  onBehalfOf: z.string().min(1).max(LIMITS.userName).optional(),
});
export type DecisionInput = z.infer<typeof decisionInputSchema>;

export const decisionSchema = z.object({
  approver: z.string(),
  decision: decisionKindSchema,
  comment: z.string().nullable(),
  at: z.string(),
  /** Under a `require:` rule: the lines (groups) this approval may count toward. */
  lines: z.array(z.string()).optional(),
  /** The delegate who cast this vote on the approver's behalf. */
  by: z.string().optional(),
});
export type Decision = z.infer<typeof decisionSchema>;

export const escalationStepSchema = z.object({
  afterSeconds: z.number(),
  notify: z.array(z.string()),
  /** `email` / `webhook:<name>` targets of this step; absent on requests created before channels existed. */
  channels: z.array(z.string()).optional(),
});
export type EscalationStep = z.infer<typeof escalationStepSchema>;

/** The policy rule as frozen onto a request when it was created. */
export const frozenRuleSchema = z.object({
  name: z.string(),
  approvers: z.array(z.string()),
  minApprovals: z.number().int(),
  allowSelfApproval: z.boolean(),
  escalation: z.array(escalationStepSchema),
  expireAfterSeconds: z.number().nullable(),
  grantTtlSeconds: z.number(),
  claimHoldsSeconds: z.number(),
  autoApprove: z.boolean(),
  /** `email` / `webhook:<name>` targets of the rule; absent on requests created before channels existed. */
  notify: z.array(z.string()).optional(),
  /** Reminder interval; absent or null: no reminders. */
  remindSeconds: z.number().nullable().optional(),
  /** How many more times the escalation chain runs after its last step; absent: none. */
  repeat: z.number().int().optional(),
  /** How far ahead a start may be asked for; absent: the default, 14 days. */
  maxScheduleAheadSeconds: z.number().optional(),
  /** Weekly windows access is cut to; absent: any time. */
  windows: z.array(accessWindowSchema).optional(),
  /** How extensions of this rule's grants are decided; absent: each goes to the approvers, no cap but the rule's. */
  extensions: z.object({ autoApprove: z.number().int(), maxTotalSeconds: z.number().nullable() }).optional(),
  /** How long before its end a grant may be extended; absent: the default, 15 minutes. */
  extendBeforeSeconds: z.number().optional(),
  /** false: chat offers only a link to the console; absent: buttons allowed. */
  chatApprove: z.boolean().optional(),
  /** High and critical risk may be decided from an email link; absent: they ask for the console. */
  emailApprove: z.boolean().optional(),
  /** Per-group quorum: every line must be met; absent: `minApprovals` from `approvers`. */
  require: z.array(quorumLineSchema).optional(),
  breakGlass: z.object({ groups: z.array(z.string()), maxTtlSeconds: z.number(), cooldownSeconds: z.number(), reviewers: z.array(z.string()) }).optional(),
});
export type FrozenRule = z.infer<typeof frozenRuleSchema>;

export const GRANT_STATUSES = ['active', 'redeemed', 'revoked', 'expired'] as const;
export const grantSummarySchema = z.object({
  jti: z.string(),
  status: z.enum(GRANT_STATUSES),
  issuedAt: z.string(),
  /** When it becomes usable: the approval, or the scheduled start (absent on grants shown by older hubs). */
  notBefore: z.string().optional(),
  expiresAt: z.string(),
  /** The signed grant; only ever sent to the requester. */
  token: z.string().optional(),
});
export type GrantSummary = z.infer<typeof grantSummarySchema>;

export const timelineEntrySchema = z.object({
  at: z.string(),
  type: z.string(),
  actor: z.string(),
  detail: z.string().nullable(),
});
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const requestSchema = z.object({
  id: z.string(),
  action: z.string(),
  resource: z.string(),
  environment: z.string(),
  requester: z.string(),
  reason: z.string(),
  risk: riskSchema,
  context: requestContextSchema,
  requestedTtlSeconds: z.number().nullable(),
  /** When access is to start (the requester's ask, or an approver's change); null: on approval. */
  notBefore: z.string().nullable().optional(),
  /** The grant this request extends, when it is an extension. */
  extends: z.string().nullable().optional(),
  status: requestStatusSchema,
  /** Increases on every change; clients keep the higher one. */
  version: z.number().int(),
  rule: frozenRuleSchema,
  /** Groups and user names who may decide now (grows as the request escalates). */
  eligibleGroups: z.array(z.string()),
  eligibleUsers: z.array(z.string()),
  escalationLevel: z.number().int(),
  /** When the next escalation step is due, if any. */
  nextEscalationAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  claim: z.object({ by: z.string(), until: z.string() }).nullable(),
  decisions: z.array(decisionSchema),
  approvals: z.number().int(),
  /** Under a `require:` rule: who counts toward each line so far. */
  quorum: z.array(lineProgressSchema).optional(),
  grant: grantSummarySchema.nullable(),
  timeline: z.array(timelineEntrySchema),
  createdAt: z.string(),
  updatedAt: z.string(),
  decidedAt: z.string().nullable(),
  /**
   * Who decided, by name (compare it with a user's name): whoever cast the deciding vote (a delegate
   * too), cancelled it, or `policy:<rule>`. Name it to people with `whoDecided`, which adds `decidedFor`.
   */
  decidedBy: z.string().nullable(),
  /** The approver a delegate (`decidedBy`) decided for; absent when nobody decided for anyone, and from hubs before it was sent. */
  decidedFor: z.string().optional(),
  /** Why it was cancelled, when whoever cancelled it said so (always, when an admin ended someone else's). */
  cancelReason: z.string().optional(),
  /** A break-glass use: its incident and how its review stands. */
  breakGlass: z
    .object({
      incident: z.string(),
      review: z.enum(['open', 'overdue', 'ratified', 'unratified']),
      /** Groups whose members review it (never the user who broke glass). */
      reviewers: z.array(z.string()),
      reviewDueAt: z.string(),
      /** Who closed the review: a reviewer, or a delegate reviewing for one (`reviewedFor`). */
      reviewedBy: z.string().nullable(),
      /** The reviewer a delegate reviewed for; absent when a reviewer reviewed as themselves. */
      reviewedFor: z.string().optional(),
      reviewComment: z.string().nullable(),
    })
    .optional(),
});
export type GreenlightRequest = z.infer<typeof requestSchema>;

/** Who decided a request, as people read it: "dana for sue" when a delegate decided for sue, else `decidedBy`; null when nobody is named. */
export function whoDecided(request: Pick<GreenlightRequest, 'decidedBy' | 'decidedFor'>): string | null {
  if (request.decidedBy === null) return null;
  return request.decidedFor ? `${request.decidedBy} for ${request.decidedFor}` : request.decidedBy;
}

/** Who cast a vote, as people read it: "dana for sue" when a delegate voted for sue, else the approver. */
export function whoVoted(decision: Pick<Decision, 'approver' | 'by'>): string {
  return decision.by ? `${decision.by} for ${decision.approver}` : decision.approver;
}

/** `POST /grants/:jti/extend`: more time on a grant about to end, as a new request through the same rule. */
export const extendInputSchema = z.strictObject({
  ttlSeconds: z.number().int().min(1, 'must be at least 1 second').max(LIMITS.maxTtlSeconds, `must be at most ${formatDuration(LIMITS.maxTtlSeconds)}`),
  reason: requiredText(LIMITS.reason, 'say why you need more time'),
});
export type ExtendInput = z.infer<typeof extendInputSchema>;

export const requestIdSchema = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not a request id');
export const requestRefSchema = z.strictObject({ requestId: requestIdSchema });

/** Why a request is cancelled: optional for its requester, required of an admin ending someone else's. */
export const cancelInputSchema = z.strictObject({
  reason: requiredText(LIMITS.reason, 'say why it is cancelled').optional(),
});
export type CancelInput = z.infer<typeof cancelInputSchema>;
export const cancelRefSchema = cancelInputSchema.extend({ requestId: requestIdSchema });
export type CancelRef = z.infer<typeof cancelRefSchema>;

/** A reviewer closes a break-glass use: ratified or not, always with a comment for the record. */
export const reviewInputSchema = z.strictObject({
  outcome: z.enum(['ratified', 'unratified']),
  comment: requiredText(2000, 'say why, for the record'),
  /** Review as this reviewer's delegate; absent: as yourself, or for the one delegator who could when you can't (refused, naming them, when several could). */
  onBehalfOf: z.string().min(1).max(LIMITS.userName).optional(),
});
export type ReviewInput = z.infer<typeof reviewInputSchema>;
export const reviewRefSchema = reviewInputSchema.extend({ requestId: requestIdSchema });
export type ReviewRef = z.infer<typeof reviewRefSchema>;

export const decideInputSchema = decisionInputSchema.extend({ requestId: requestIdSchema });
export type DecideInput = z.infer<typeof decideInputSchema>;
