import { z } from 'zod';
import { httpUrlSchema, notificationEventSchema } from '../../protocol/index.js';
import { emailConfigSchema } from './email-config.js';
import { secretReferenceSchema } from './secret-reference.js';
import { slackConfigSchema } from './slack/config.js';
import { teamsConfigSchema } from './teams/config.js';

/**
 * The `notifiers:` section of the hub configuration: endpoints and their secrets, which do not belong
 * in the policy (the policy names them). Secrets are references (`env:VAR`, `file:/path`) or literals,
 * resolved at start by `secrets.ts`; the unresolved text is what this schema holds. Each channel is
 * one key of `notifiersConfigSchema`, its schema in a module of its own.
 */

export const webhookConfigSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'use letters, digits, _ and -, starting with a letter or digit (at most 64)'),
  url: httpUrlSchema,
  /** `whsec_<base64>`; a list of two signs every delivery with both while receivers move to the new one. */
  secret: z.union([secretReferenceSchema, z.array(secretReferenceSchema).min(1).max(2, 'at most two secrets: the current one and the next')]),
  /** Only these events; every event when absent. */
  events: z.array(notificationEventSchema).min(1).optional(),
  /** Deliveries in flight to this endpoint at once; a slow endpoint holds only its own. */
  maxConcurrency: z.number().int().min(1).max(64).default(4),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const notifiersConfigSchema = z
  .strictObject({
    /** Lets endpoints resolve to loopback, private and link-local addresses (tests, on-premises receivers). */
    allowPrivateNetworks: z.boolean().default(false),
    webhooks: z.array(webhookConfigSchema).default([]),
    email: emailConfigSchema.optional(),
    slack: slackConfigSchema.optional(),
    teams: teamsConfigSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.webhooks.forEach((webhook, index) => {
      if (seen.has(webhook.name)) ctx.addIssue({ code: 'custom', path: ['webhooks', index, 'name'], message: `duplicate webhook name "${webhook.name}"` });
      seen.add(webhook.name);
    });
  });
export type NotifiersConfig = z.input<typeof notifiersConfigSchema>;
export type ParsedNotifiersConfig = z.infer<typeof notifiersConfigSchema>;
