import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, GreenlightRequest, PolicyExplanation } from '../protocol/index.js';
import { capturedLog } from './test-support/captured-log.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: three
    match: { action: deploy }
    approvers: [sre, dba]
    minApprovals: 3
  - name: three-paged
    match: { action: failover }
    approvers: [sre, dba]
    minApprovals: 3
    escalation:
      - { after: 15m, notify: [leads] }
  - name: four-paged
    match: { action: restore }
    approvers: [sre, dba]
    minApprovals: 4
    escalation:
      - { after: 15m, notify: [leads] }
  - name: pair
    match: { action: restart }
    approvers: [cache]
    minApprovals: 2
`;

type ErrorBody = { error: { code: string; message: string } };

// A request that needs more approvals than there are people to give them would wait for ever.
describe('a minApprovals rule with fewer people who could decide than it needs', () => {
  const log = capturedLog<{ level: number; msg: string; understaffed?: { rule: string; why: string }[] }>();
  const hub = new TestHub('sqlite', { policy: POLICY, logger: log.logger });
  let alice: TestUser, carl: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    // sre and dba: sam is in both and votes once; dora decides; dan is disabled; rita may only ask.
    await hub.createUser('sam', ['approver'], ['sre', 'dba']);
    await hub.createUser('dora', ['approver'], ['dba']);
    await hub.createUser('dan', ['approver'], ['dba']);
    expect((await hub.api('POST', '/api/v1/users/dan/disable', ADMIN_TOKEN)).status).toBe(200);
    await hub.createUser('rita', ['requester'], ['sre']);
    // A delegate casts their delegator's vote, never a vote of their own: vic adds nobody.
    await hub.createUser('vic', ['approver']);
    const endsAt = new Date(Date.now() + 7 * 24 * 3600_000).toISOString();
    expect((await hub.api('POST', '/api/v1/delegations', ADMIN_TOKEN, { from: 'dora', to: 'vic', endsAt, reason: 'holiday' })).status).toBe(201);
    await hub.createUser('lena', ['lead'], ['leads']);
    // cache: two who decide, one of them carl, who asks below.
    carl = await hub.createUser('carl', ['approver', 'requester'], ['cache']);
    await hub.createUser('cleo', ['approver'], ['cache']);
  });
  afterAll(() => hub.dispose());

  const submit = (user: TestUser, action: string) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, deployRequest({ action, resource: 'orders-db' }));

  it('is refused with NO_APPROVERS saying too few, how many it needs and how many could decide, and nothing is stored', async () => {
    const reply = await submit(alice, 'deploy');
    expect(reply.status).toBe(422);
    expect(reply.body.error).toEqual({
      code: 'NO_APPROVERS',
      message:
        'Too few people can approve deploy on orders-db in production: rule "three" needs 3 approvals from different people, ' +
        'and sre and dba together have only 2 active people who could give one. Ask an admin to add 1 more, e.g. greenlight user add <name> --role approver --group sre.',
    });
    const mine = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true', alice.token);
    expect(mine.body.requests).toEqual([]);
  });

  it('does not count the requester unless the rule lets them approve their own request', async () => {
    const own = await submit(carl, 'restart');
    expect(own.status).toBe(422);
    expect(own.body.error.code).toBe('NO_APPROVERS');
    expect(own.body.error.message).toContain('needs 2 approvals from different people, and cache has only 1 active person who could give one besides you');
    // Asked by someone else, carl and cleo are the two it needs.
    expect((await submit(alice, 'restart')).status).toBe(201);
  });

  it('is refused where even the escalation would not bring enough people, counting those it reaches', async () => {
    const reply = await submit(alice, 'restore');
    expect(reply.status).toBe(422);
    expect(reply.body.error.code).toBe('NO_APPROVERS');
    expect(reply.body.error.message).toContain(`needs 4 approvals from different people, and sre, dba and the rule's escalation steps together have only 3 active people who could give one`);
  });

  it('escalates at once where the escalation brings enough people, saying there were too few', async () => {
    const reply = await submit(alice, 'failover');
    expect(reply.status).toBe(201);
    expect(reply.body.eligibleGroups).toEqual(expect.arrayContaining(['sre', 'dba', 'leads']));
    const { events } = (await hub.api<{ events: AuditEvent[] }>('GET', '/api/v1/audit?type=request.escalated&limit=10', ADMIN_TOKEN)).body;
    const escalated = events.find((event) => event.requestId === reply.body.id);
    expect(escalated?.data.reason).toBe('too few could approve it: it needs 3 approvals from different people, and only 2 active people in sre and dba could give one');
  });

  it('is said by policy explain before the request is made, counting as the refusal does', async () => {
    const explain = async (user: TestUser, action: string) =>
      (await hub.api<PolicyExplanation>('GET', `/api/v1/policy/explain?action=${action}&resource=orders-db&environment=production`, user.token)).body.summary;
    expect(await explain(alice, 'deploy')).toBe('needs 3 approvals from sre or dba; too few could approve it: only 2 people, for the 3 approvals it needs, so it would be refused (NO_APPROVERS)');
    expect(await explain(carl, 'restart')).toContain('too few could approve it: only 1 person, for the 2 approvals it needs');
    expect(await explain(alice, 'restart')).toBe('needs 2 approvals from cache');
  });

  it('is said by policy explain as submission does it where the escalation brings enough people, or too few', async () => {
    const summary = async (action: string) =>
      (await hub.api<PolicyExplanation>('GET', `/api/v1/policy/explain?action=${action}&resource=orders-db&environment=production`, alice.token)).body.summary;
    expect(await summary('failover')).toBe('needs 3 approvals from sre or dba; escalates to leads in 15m; too few could approve it: only 2 people, for the 3 approvals it needs, so it would be escalated at once');
    expect(await summary('restore')).toBe(
      'needs 4 approvals from sre or dba; escalates to leads in 15m; too few could approve it: only 3 people (with those its escalation reaches), for the 4 approvals it needs, so it would be refused (NO_APPROVERS)',
    );
  });

  it('is warned of in the hub log when the policy is loaded, naming each rule short of people', async () => {
    const aboutRules = () => log.warnings().filter((warning) => warning.understaffed !== undefined);
    const before = aboutRules().length;
    writeFileSync(hub.policyPath!, `${POLICY}# reloaded\n`);
    await expect.poll(() => aboutRules().length, { timeout: 10_000 }).toBeGreaterThan(before);
    const warning = aboutRules()[before];
    // cache has carl and cleo, the two pair needs; a requester among them is not known until one asks.
    expect(warning?.understaffed?.map((entry) => entry.rule)).toEqual(['three', 'three-paged', 'four-paged']);
    expect(warning?.msg).toContain('rule "three": it needs 3 approvals from different people, and sre and dba together have only 2 active members who could give one');
    expect(warning?.msg).toContain('refused with NO_APPROVERS');
  });
});
