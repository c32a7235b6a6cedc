import { z } from 'zod';
import { httpUrlSchema } from '../../../protocol/index.js';

/** Slack's Web API; tests point `apiUrl` at a local stand-in. */
export const SLACK_API_URL = 'https://slack.com/api/';

const secretReference = z.string().min(1, 'must not be empty').max(4096);

/**
 * `notifiers.slack`: the Slack app the hub posts as and whose interactivity requests it accepts.
 * `botToken` and `signingSecret` are secret references (`env:VAR`, `file:/path`) or literals.
 */
export const slackConfigSchema = z.strictObject({
  botToken: secretReference,
  signingSecret: secretReference,
  apiUrl: httpUrlSchema.default(SLACK_API_URL),
  /** Match a Slack user to a Greenlight user by email when no user has their member id (needs users:read.email). */
  matchByEmail: z.boolean().default(false),
});
export type SlackConfig = z.infer<typeof slackConfigSchema>;
