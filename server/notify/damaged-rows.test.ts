import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailPayload } from './email-payload.js';
import { EmailEndpoint } from './email.js';
import { SlackApp } from './slack/app.js';
import { SmtpReceiver } from '../test-support/smtp-receiver.js';

const payload: EmailPayload = {
  type: 'request.created',
  timestamp: '2026-12-04T10:00:00.000Z',
  alert: null,
  to: { name: 'Bob', address: 'bob@example.com' },
  decidesFor: [],
  request: {
    id: 'req_1',
    action: 'deploy',
    resource: 'payments-api',
    environment: 'production',
    requester: 'alice',
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
  },
};

/** What a row of the outbox may hold after a damaged write, a bad restore or a hand edit. */
const damaged = ['{"to": "bob@exa', '', 'null', '[]', JSON.stringify({ ...payload, to: 'bob@example.com' })];

describe('an outbox row the hub cannot read', () => {
  const smtp = new SmtpReceiver();
  let email: EmailEndpoint;
  beforeAll(async () => {
    await smtp.start();
    email = new EmailEndpoint({ smtp: { host: '127.0.0.1', port: smtp.port, secure: false, maxConcurrency: 1 }, from: 'greenlight@example.com' }, () => 'http://127.0.0.1:7300');
    email.tokenKey = Buffer.alloc(32, 7);
  });
  afterAll(async () => {
    email?.close();
    await smtp.stop();
  });

  it('is refused by email at once, with the reason, and nothing reaches the SMTP server; a sound row still goes', async () => {
    for (const row of damaged) {
      const outcome = await email.send('ntf_damaged', row, new AbortController().signal);
      expect(outcome, `row ${JSON.stringify(row)}`).toEqual({ kind: 'refused', error: 'the stored message is not one this hub can read' });
    }
    expect(await email.send('ntf_sound', JSON.stringify(payload), new AbortController().signal)).toMatchObject({ kind: 'delivered' });
    expect(smtp.received.map((mail) => mail.to)).toEqual([['bob@example.com']]);
  });

  it('is refused by Slack at once, with the reason, and Slack is never called (Slack stood in for by a recording sender)', async () => {
    const slack = new SlackApp({ botToken: 'xoxb-test', signingSecret: 'secret', apiUrl: 'http://127.0.0.1:9/api/', matchByEmail: false });
    const sent: string[] = [];
    slack.attach(async (_app, row, id) => {
      sent.push(`${id}:${row.kind}`);
      return null;
    });
    for (const row of damaged) {
      expect(await slack.send('ntf_damaged', row, new AbortController().signal)).toEqual({ kind: 'refused', error: 'not a Slack notification this hub understands' });
    }
    expect(await slack.send('ntf_sound', JSON.stringify({ kind: 'refresh', requestId: 'req_1' }), new AbortController().signal)).toEqual({ kind: 'delivered', status: 200 });
    expect(sent).toEqual(['ntf_sound:refresh']);
  });
});
