import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: both
    match: { action: migrate }
    require:
      - { group: sre, count: 1 }
      - { group: dba, count: 1 }
  - name: paged
    match: { action: failover }
    require:
      - { group: sre, count: 1 }
      - { group: dba, count: 1 }
    escalation:
      - { after: 15m, notify: [leads] }
  - name: paged-short
    match: { action: reshard }
    require:
      - { group: sre, count: 1 }
      - { group: dba, count: 1 }
      - { group: vault, count: 1 }
    escalation:
      - { after: 15m, notify: [leads] }
  - name: one-person
    match: { action: rotate }
    require:
      - { group: net, count: 1 }
      - { group: audit, count: 1 }
`;

type ErrorBody = { error: { code: string; message: string } };

// A request waiting on a line nobody can fill would wait for ever, though the other line is staffed.
describe('a per-group quorum with a line nobody could fill', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('sam', ['approver'], ['sre']);
    // dba: someone who may only ask.
    await hub.createUser('rita', ['requester'], ['dba']);
    await hub.createUser('lena', ['lead'], ['leads']);
    // The only one in either group: one vote, for one line.
    await hub.createUser('pat', ['approver'], ['net', 'audit']);
  });
  afterAll(() => hub.dispose());

  it('is refused with NO_APPROVERS naming the empty line, and nothing is stored', async () => {
    const reply = await hub.api<ErrorBody>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'migrate', resource: 'orders-db' }));
    expect(reply.status).toBe(422);
    expect(reply.body.error).toMatchObject({ code: 'NO_APPROVERS', message: expect.stringContaining('rule "both" needs an approver from dba, and dba has no active member who could approve it') });
    const mine = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true', alice.token);
    expect(mine.body.requests).toEqual([]);
  });

  it('escalates at once where the rule has a step that reaches someone, saying which line was empty', async () => {
    const reply = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'failover', resource: 'orders-db' }));
    expect(reply.status).toBe(201);
    expect(reply.body.eligibleGroups).toContain('leads');
    const { events } = (await hub.api<{ events: { type: string; data: { reason?: string } }[] }>('GET', `/api/v1/audit?type=request.escalated&limit=10`, ADMIN_TOKEN)).body;
    expect(events[0]?.data.reason).toContain('no active member of dba');
  });

  it('is refused when one person is all two lines have: they vote once, for one line', async () => {
    const reply = await hub.api<ErrorBody>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'rotate', resource: 'vpn-keys' }));
    expect(reply.status).toBe(422);
    expect(reply.body.error).toMatchObject({ code: 'NO_APPROVERS', message: expect.stringMatching(/rule "one-person" needs an approver from (net|audit), and \1 has too few active members who could approve it besides those the other lines need/) });
  });

  it('is refused where the escalation would bring too few to fill the lines left: one lead stands in for one line', async () => {
    const reply = await hub.api<ErrorBody>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'reshard', resource: 'orders-db' }));
    expect(reply.status).toBe(422);
    expect(reply.body.error).toMatchObject({ code: 'NO_APPROVERS', message: expect.stringContaining('rule "paged-short" needs an approver from dba and vault') });
  });
});
