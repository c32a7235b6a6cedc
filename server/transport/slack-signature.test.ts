import { describe, expect, it } from 'vitest';
import { slackSignature, slackSignatureProblem } from './slack-signature.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';

describe('Slack request signatures', () => {
  const now = 1_700_000_000;
  const signed = slackSignature(SECRET, String(now), BODY);

  it('accepts what Slack signs: v0= and the hex HMAC-SHA256 of v0:timestamp:body', () => {
    expect(signed).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(slackSignatureProblem(SECRET, String(now), signed, BODY, now)).toBeNull();
    expect(slackSignatureProblem(SECRET, String(now), signed, BODY, now + 300)).toBeNull();
  });

  it('refuses another secret, another body, a timestamp more than 5 minutes off and missing headers, saying which', () => {
    expect(slackSignatureProblem('another-secret', String(now), signed, BODY, now)).toBe('signature does not match');
    expect(slackSignatureProblem(SECRET, String(now), signed, `${BODY}x`, now)).toBe('signature does not match');
    expect(slackSignatureProblem(SECRET, String(now), signed.slice(0, -1), BODY, now)).toBe('signature does not match');
    expect(slackSignatureProblem(SECRET, String(now), signed, BODY, now + 301)).toBe('timestamp more than 5 minutes off');
    expect(slackSignatureProblem(SECRET, String(now - 360), slackSignature(SECRET, String(now - 360), BODY), BODY, now)).toBe('timestamp more than 5 minutes off');
    expect(slackSignatureProblem(SECRET, undefined, signed, BODY, now)).toBe('missing X-Slack-Request-Timestamp or X-Slack-Signature');
    expect(slackSignatureProblem(SECRET, 'soon', signed, BODY, now)).toBe('X-Slack-Request-Timestamp is not a Unix time');
  });
});
