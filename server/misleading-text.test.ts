import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod-deploys
    match: { action: deploy, environment: production }
    approvers: [sre]
`;

type ErrorBody = { error: { code: string; message: string } };

// What an approver reads must be what was sent: a direction override can make a reason, a comment or a
// resource read as other words, and a terminal escape can rewrite what a terminal already printed.
describe('a hub refuses text that would read as something other than what was sent', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser, bob: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  const submit = (body: unknown) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', alice.token, body);
  const auditCount = async () => (await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN)).body.events.length;

  it('refuses a request with a direction control, a terminal escape or an invisible character, naming the field and the character', async () => {
    const before = await auditCount();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [deployRequest({ reason: 'routine \u202Eyalp-on' }), 'reason', /U\+202E, which changes the direction/],
      [deployRequest({ resource: 'payments\u200B-api' }), 'resource', /invisible characters/],
      [deployRequest({ resource: 'payments-api\u001b[2K' }), 'resource', /control character U\+001B/],
      [deployRequest({ context: { summary: 'ok\u2067' } }), 'context.summary', /U\+2067/],
      [deployRequest({ context: { fields: { owner: 'team\u202D' } } }), 'context.fields.owner', /U\+202D/],
      [deployRequest({ context: { links: [{ title: 'runbook\u009b', url: 'https://runbooks.example.com' }] } }), 'context.links.0.title', /U\+009B/],
      // Reads as a GitHub path (U+2215 division slashes), goes to evil.example.
      [deployRequest({ context: { links: [{ title: 'PR 42', url: 'https://github.com\u2215acme\u2215pull\u221542@evil.example/x' }] } }), 'context.links.0.url', /must not name a user or password before the host/],
    ];
    for (const [body, field, message] of cases) {
      const refused = await submit(body);
      expect(refused.status, field).toBe(400);
      expect(refused.body.error.code).toBe('INVALID_INPUT');
      expect(refused.body.error.message).toContain(`${field}: `);
      expect(refused.body.error.message).toMatch(message);
    }
    expect(await auditCount()).toBe(before);
  });

  it('refuses a line break in a label shown on one line: a link title, a field name, an incident', async () => {
    const before = await auditCount();
    const cases: [Record<string, unknown>, string][] = [
      [deployRequest({ context: { links: [{ title: 'CI run\nApproved by security: yes', url: 'https://ci.example.com/1' }] } }), 'context.links.0.title'],
      [deployRequest({ context: { fields: { 'ticket\r\nreviewed': 'yes' } } }), 'context.fields.ticket\r\nreviewed'],
      [deployRequest({ reason: 'database on fire, failover needed right now', breakGlass: { incident: 'INC-1\u2028resolved' } }), 'breakGlass.incident'],
    ];
    for (const [body, field] of cases) {
      const refused = await submit(body);
      expect(refused.status, field).toBe(400);
      expect(refused.body.error.code).toBe('INVALID_INPUT');
      expect(refused.body.error.message).toContain('must be one line');
    }
    expect(await auditCount()).toBe(before);
  });

  it('keeps a diff and a log byte for byte, and takes right-to-left text and line breaks as written', async () => {
    const diff = '--- a/auth.py\n+++ b/auth.py\n@@ -1 +1 @@\n-if role == "user":\n+if role == "user\u202E \u2066# admin\u2069":\n';
    const logs = '\u001b[32mPASS\u001b[0m 12 tests\r\n';
    const reason = 'שחרור תיקון \u200F for INC-1\r\nsecond line';
    const created = await submit(deployRequest({ reason, context: { diff, logs } }));
    expect(created.status).toBe(201);
    const read = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}`, bob.token);
    expect(read.body.context.diff).toBe(diff);
    expect(read.body.context.logs).toBe(logs);
    expect(read.body.reason).toBe(reason);
  });

  it('refuses such a comment on a decision over HTTP and over the socket, and the request stays undecided', async () => {
    const created = await submit(deployRequest());
    const overHttp = await hub.api<ErrorBody>('POST', `/api/v1/requests/${created.body.id}/decisions`, bob.token, { decision: 'deny', comment: 'no \u202Eevorppa' });
    expect(overHttp.status).toBe(400);
    expect(overHttp.body.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/comment: contains U\+202E/) });
    const client = await hub.connect(bob);
    await expect(client.decide({ requestId: created.body.id, decision: 'approve', comment: 'ok\u001b]8;;https://evil.example\u0007' })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/comment: contains the control character U\+001B/) });
    const cancelled = await hub.api<ErrorBody>('POST', `/api/v1/requests/${created.body.id}/cancel`, alice.token, { reason: 'done\u2066' });
    expect(cancelled.status).toBe(400);
    const read = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}`, bob.token);
    expect(read.body.status).toBe('pending');
    expect(read.body.decisions).toEqual([]);
    expect((await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body.ok).toBe(true);
  });
});
