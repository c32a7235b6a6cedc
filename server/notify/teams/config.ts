import { z } from 'zod';
import { httpUrlSchema } from '../../../protocol/index.js';

/** `notifiers.teams`: Teams incoming webhooks (or Workflows "post to a channel when a webhook request is received" URLs) by name. */
export const teamsWebhookConfigSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'use letters, digits, _ and -, starting with a letter or digit (at most 64)'),
  /** The URL carries its own credential, so it is a secret reference (`env:VAR`, `file:/path`) or a literal URL. */
  url: z.string().min(1).max(4096),
});

export const teamsConfigSchema = z.array(teamsWebhookConfigSchema).superRefine((hooks, ctx) => {
  const seen = new Set<string>();
  hooks.forEach((hook, index) => {
    if (seen.has(hook.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate Teams webhook name "${hook.name}"` });
    seen.add(hook.name);
  });
});
export type TeamsWebhookConfig = z.infer<typeof teamsWebhookConfigSchema>;

/** A resolved Teams URL must be http(s). */
export const teamsUrlSchema = httpUrlSchema;
