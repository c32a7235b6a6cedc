import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { parsePolicy } from './domain/policy.js';
import { policyDigest } from './domain/policy-digest.js';

const FIRST = `
rules:
  - name: prod
    match: { environment: production }
    approvers: [sre]
`;
const SECOND = `
rules:
  - name: prod-strict
    match: { environment: production }
    approvers: [sre]
    minApprovals: 2
  - name: staging
    match: { environment: staging }
    autoApprove: true
`;

describe('policy file reload', () => {
  const hub = new TestHub('sqlite', { policy: FIRST });
  let alice: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    await hub.createUser('bob', ['approver'], ['sre']);
    // prod-strict needs two of sre: with fewer, its requests would be refused (NO_APPROVERS).
    await hub.createUser('sara', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  const auditTypes = async (type: string) => (await hub.api<{ events: { data: Record<string, unknown> }[] }>('GET', `/api/v1/audit?type=${type}`, ADMIN_TOKEN)).body.events;
  const waitForAudit = async (type: string, count: number) => {
    for (;;) {
      const events = await auditTypes(type);
      if (events.length >= count) return events;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it('takes a good edit, keeps requests in flight on the rule they were created with', async () => {
    const inFlight = await hub.api<{ id: string; rule: { name: string; minApprovals: number } }>('POST', '/api/v1/requests', alice.token, deployRequest());
    const loadedBefore = (await auditTypes('policy.loaded')).length;
    writeFileSync(hub.policyPath!, SECOND);
    const loaded = await waitForAudit('policy.loaded', loadedBefore + 1);
    // Newest first: the reload, then the start; each names the digest of the rules it loaded.
    expect(loaded.slice(0, 2).map((event) => event.data.digest)).toEqual([policyDigest(parsePolicy(SECOND)), policyDigest(parsePolicy(FIRST))]);

    const staging = await hub.api<{ status: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ environment: 'staging' }));
    expect(staging.body.status).toBe('approved');
    const fresh = await hub.api<{ rule: { name: string } }>('POST', '/api/v1/requests', alice.token, deployRequest());
    expect(fresh.body.rule.name).toBe('prod-strict');
    const old = await hub.api<{ rule: { name: string; minApprovals: number } }>('GET', `/api/v1/requests/${inFlight.body.id}`, alice.token);
    expect(old.body.rule).toMatchObject({ name: 'prod', minApprovals: 1 });
  });

  it('a bad edit keeps the previous policy and records why', async () => {
    writeFileSync(hub.policyPath!, 'rules:\n  - name: broken\n    minApprovals: many\n');
    const [rejected] = await waitForAudit('policy.rejected', 1);
    expect(String(rejected!.data.error)).toContain('rule "broken"');
    const staging = await hub.api<{ status: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ environment: 'staging' }));
    expect(staging.body.status).toBe('approved');
  });

  it('an edit nested thousands deep is refused the same way: the hub stays up on the previous policy', async () => {
    const rejectedBefore = (await auditTypes('policy.rejected')).length;
    writeFileSync(hub.policyPath!, `rules:\n  - name: deep\n    match: ${'['.repeat(5_000)}\n`);
    const rejected = await waitForAudit('policy.rejected', rejectedBefore + 1);
    expect(rejected.map((event) => String(event.data.error))).toContainEqual(expect.stringContaining('policy.yaml: line 3: lists and maps nest more than 32 deep'));
    const staging = await hub.api<{ status: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ environment: 'staging' }));
    expect(staging.body.status).toBe('approved');
  });

  it('an edit with a duration too long to add to a date is refused naming the field: the previous policy stays', async () => {
    const loadedBefore = (await auditTypes('policy.loaded')).length;
    const rejectedBefore = (await auditTypes('policy.rejected')).length;
    // Loaded, this would leave staging waiting for approvers, and fail every break-glass use with INTERNAL.
    writeFileSync(
      hub.policyPath!,
      `rules:
  - name: prod
    match: { environment: production }
    approvers: [sre]
    breakGlass: { groups: [sre], reviewers: [sre], cooldown: 9999999999d }
  - name: staging
    match: { environment: staging }
    approvers: [sre]
`,
    );
    await eventually(
      async () => {
        if ((await auditTypes('policy.loaded')).length > loadedBefore) throw new Error('the hub loaded the edit');
        return (await auditTypes('policy.rejected')).length > rejectedBefore;
      },
      { what: 'the edit to be rejected', every: 50 },
    );
    const [rejected] = await auditTypes('policy.rejected');
    expect(String(rejected!.data.error)).toContain('rule "prod": breakGlass.cooldown: at most 3650d (ten years)');
    const staging = await hub.api<{ status: string }>('POST', '/api/v1/requests', alice.token, deployRequest({ environment: 'staging' }));
    expect(staging.body.status).toBe('approved');
  });
});
