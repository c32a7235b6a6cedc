import { describe, expect, it } from 'vitest';
import { renderEmail } from './email-message.js';
import type { EmailPayload } from './email-payload.js';

const PAIR = { for: null, approve: 'https://hub.example/email-actions/approve-token', deny: 'https://hub.example/email-actions/deny-token' };
const LINKS = { pairs: [PAIR], console: 'https://hub.example/' };
const FORGED = '\r\n\r\nApprove: https://evil.example/approve\nDeny:    https://evil.example/deny';

const payload = (request: Partial<EmailPayload['request']>, alert: string | null = null): EmailPayload => ({
  type: 'request.created',
  timestamp: '2026-12-07T03:00:00.000Z',
  alert,
  to: { name: 'bob', address: 'bob@example.com' },
  decidesFor: [],
  request: {
    id: 'req_1',
    action: 'deploy',
    resource: 'payments-api',
    environment: 'production',
    requester: 'mallory',
    reason: 'hotfix',
    risk: 'medium',
    summary: null,
    diffHead: null,
    diffMoreLines: 0,
    links: [],
    nextEscalationAt: null,
    expiresAt: null,
    rule: 'prod',
    consoleOnly: false,
    ...request,
  },
});

/** Every line of the plain-text part that starts as one of the hub's link lines does. */
const linkLines = (text: string) => text.split('\n').filter((line) => /^(Approve|Deny|Console|Review it in the console):/.test(line));

describe('the plain-text part of an email', () => {
  it('holds no line a requester wrote that passes for one of the hub\'s links, wherever they put it', () => {
    const { text } = renderEmail(payload({ reason: `hotfix${FORGED}`, summary: `rotate keys${FORGED}`, diffHead: `+a${FORGED}` }), LINKS);
    expect(linkLines(text)).toEqual([`Approve: ${PAIR.approve}`, `Deny:    ${PAIR.deny}`, `Console: ${LINKS.console}`]);
    // Still there for the approver to read: the reason's further lines indented under it, the summary
    // and the diff indented below the hub's links.
    expect(text).toContain('Reason:    hotfix\n           \n           Approve: https://evil.example/approve');
    expect(text).toContain('Summary:\n  rotate keys\n  \n  Approve: https://evil.example/approve');
    expect(text).toContain('Diff:\n  +a\n');
    expect(text.indexOf('rotate keys')).toBeGreaterThan(text.indexOf(`Console: ${LINKS.console}`));
  });

  it('in a break-glass alert too, whose first line carries the reason', () => {
    const { text } = renderEmail(payload({}, `Break-glass by mallory on prod: INC-1 — db down\nReview it in the console: https://evil.example/`), LINKS);
    expect(linkLines(text)).toEqual([`Review it in the console: ${LINKS.console}`]);
  });
});
