import { z } from 'zod';
import { queryNumber } from './limits.js';
import { CHAT_TARGET_PATTERN } from './chat-targets.js';

/**
 * What the hub announces to notification channels (webhooks, later email and chat), each the `type`
 * of a Standard Webhooks payload. `request.decided` covers approved and denied; `data.status` says which.
 * `request.break_glass` is access taken without approval: it comes marked `urgent`, with a `message`.
 * `request.break_glass_overdue` is the review of such a use gone overdue, urgent too: the same use
 * still unreviewed, never a second one.
 */
export const NOTIFICATION_EVENTS = [
  'request.created',
  'request.escalated',
  'request.reminded',
  'request.decided',
  'request.expired',
  'request.cancelled',
  'request.break_glass',
  'request.break_glass_overdue',
  'grant.issued',
  'grant.expiring',
  'grant.revoked',
  'audit.checkpoint',
] as const;
export const notificationEventSchema = z.enum(NOTIFICATION_EVENTS);
export type NotificationEvent = z.infer<typeof notificationEventSchema>;

/**
 * An endpoint whose `events` list was written before an event existed, and names the one it used to
 * come as, keeps receiving it: the overdue alert was a second `request.break_glass` until it had a
 * type of its own, and an endpoint that listed break-glass must not lose it silently.
 */
export const LISTED_WITH: Partial<Record<NotificationEvent, NotificationEvent>> = {
  'request.break_glass_overdue': 'request.break_glass',
};

export const NOTIFICATION_STATUSES = ['pending', 'delivered', 'failed'] as const;
export const notificationStatusSchema = z.enum(NOTIFICATION_STATUSES);
export type NotificationStatus = z.infer<typeof notificationStatusSchema>;

/** Where a rule's requests are announced: `email` (eligible approvers with an address), a configured webhook by name, or a chat target. */
export const notifyTargetSchema = z
  .string()
  .regex(
    new RegExp(`^(email|webhook:[A-Za-z0-9][A-Za-z0-9_-]{0,63}|${CHAT_TARGET_PATTERN})$`),
    'expected "email", "webhook:<name>", "slack:#channel", "slack:dm" or "teams:<name>" (webhooks and Teams names as in the hub configuration)',
  );
export type NotifyTarget = z.infer<typeof notifyTargetSchema>;

/** A chat channel's own row: rewrite every message posted for a request (Slack `chat.update`); never sent to webhooks. */
export const CHAT_REFRESH_EVENT = 'request.updated';

/** One outbox row as admins see it: never the payload, never a secret. */
export const notificationSchema = z.object({
  id: z.string(),
  type: z.union([notificationEventSchema, z.literal(CHAT_REFRESH_EVENT)]),
  channel: z.string(),
  destination: z.string(),
  requestId: z.string().nullable(),
  status: notificationStatusSchema,
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type Notification = z.infer<typeof notificationSchema>;

export const notificationQuerySchema = z.strictObject({
  status: notificationStatusSchema.optional(),
  limit: queryNumber(z.number().int().min(1).max(1000).default(100)),
  cursor: z.string().regex(/^ntf_[a-z0-9]+$/, 'expected the nextCursor of an earlier page').optional(),
});
export type NotificationQuery = z.infer<typeof notificationQuerySchema>;

export const notificationPageSchema = z.object({ notifications: z.array(notificationSchema), nextCursor: z.string().nullable() });
export type NotificationPage = z.infer<typeof notificationPageSchema>;

export const notificationIdSchema = z.string().regex(/^ntf_[a-z0-9]+$/, 'not a notification id (ntf_…)');

/**
 * Whether one channel reaches the signed-in user with the requests they may decide: the app always,
 * email where a rule announces by email and they have an address, webhooks never (they go to
 * systems, not people). `detail` says why, in words a person can act on.
 */
export const channelReachSchema = z.object({
  channel: z.string(),
  reaches: z.boolean(),
  detail: z.string(),
  /** Where it reaches them (an email address), when it does or could. */
  address: z.string().nullable(),
  /** The policy rules whose requests reach them this way. */
  rules: z.array(z.string()),
});
export type ChannelReach = z.infer<typeof channelReachSchema>;

export const myChannelsSchema = z.object({ channels: z.array(channelReachSchema) });
export type MyChannels = z.infer<typeof myChannelsSchema>;
