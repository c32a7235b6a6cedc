import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack signs with a timestamp; one further off than this is refused (Slack's own advice). */
export const SLACK_SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the signing secret. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/**
 * Why a request did not come from Slack, or null when its signature holds: the comparison takes the
 * same time however much of a forged signature matches.
 */
export function slackSignatureProblem(signingSecret: string, timestamp: unknown, signature: unknown, rawBody: string, nowSeconds: number): string | null {
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return 'missing X-Slack-Request-Timestamp or X-Slack-Signature';
  if (!/^\d{1,12}$/.test(timestamp)) return 'X-Slack-Request-Timestamp is not a Unix time';
  if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_SIGNATURE_WINDOW_SECONDS) return 'timestamp more than 5 minutes off';
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'signature does not match';
  return null;
}
