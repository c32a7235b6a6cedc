import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { authenticate } from './domain/users.js';
import { decideRequest } from './domain/requests.js';
import { claimRequest } from './domain/lifecycle/claims.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: two-sre
    match: { action: deploy }
    approvers: [sre]
    minApprovals: 2
  - name: one-of-each
    match: { action: migrate }
    require:
      - { group: sre, count: 1 }
      - { group: security, count: 1 }
`;

type ErrorBody = { error: { code: string; message: string } };

// An admin who moves a distrusted approver out of a group, or makes them a requester, expects what
// they approved and could not approve now to stop counting, as a disable would.
describe('an approver whose roles or groups change while their approval waits on others', () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser, sam: TestUser, sid: TestUser, sue: TestUser, pat: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    sam = await hub.createUser('sam', ['approver'], ['sre']);
    sid = await hub.createUser('sid', ['approver'], ['sre']);
    sue = await hub.createUser('sue', ['approver'], ['security']);
    pat = await hub.createUser('pat', ['approver'], ['sre', 'security']);
  });
  afterAll(() => hub.dispose());

  const submit = async (action = 'deploy') => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action }))).body;
  const decide = (user: TestUser, id: string) => hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision: 'approve' });
  const change = async (name: string, update: { roles?: string[]; groups?: string[] }) => expect((await hub.api('PATCH', `/api/v1/users/${name}`, ADMIN_TOKEN, update)).status).toBe(200);

  it('a demoted approver\'s vote no longer counts: the next approval leaves the request waiting for another', async () => {
    const request = await submit();
    expect((await decide(sam, request.id)).body.status).toBe('pending');
    await change('sam', { roles: ['requester'], groups: [] });

    const after = await decide(sid, request.id);
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('pending');
    expect(after.body.decisions.map((decision) => decision.approver)).toEqual(['sid']);
    const withdrawn = after.body.timeline.find((entry) => entry.type === 'request.vote_withdrawn');
    expect(withdrawn?.detail).toContain("sam's roles or groups changed");
    await change('sam', { roles: ['approver'], groups: ['sre'] });
  });

  it('an approval under per-group quorum stops counting when its approver leaves every group the request asks', async () => {
    const request = await submit('migrate');
    expect((await decide(pat, request.id)).body.status).toBe('pending');
    // Pat stays an approver, for another team.
    await change('pat', { groups: ['dba'] });
    const after = await decide(sam, request.id);
    expect(after.body.status).toBe('pending');
    expect(after.body.quorum?.flatMap((entry) => entry.approvers)).toEqual(['sam']);
    await change('pat', { groups: ['sre', 'security'] });
  });

  it('a vote or a claim let in just before the demotion committed is refused inside its transaction, not recorded', async () => {
    const request = await submit();
    // Authenticated (as a call is) before the admin's change commits.
    const before = await authenticate(hub.hub.ctx, sid.token);
    await change('sid', { groups: [] });
    await expect(decideRequest(hub.hub.ctx, before!, request.id, { decision: 'approve' })).rejects.toMatchObject({ code: 'NOT_ELIGIBLE' });
    await expect(claimRequest(hub.hub.ctx, before!, request.id)).rejects.toMatchObject({ code: 'NOT_ELIGIBLE' });
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, ADMIN_TOKEN)).body.decisions).toEqual([]);
    await change('sid', { groups: ['sre'] });
  });

  it('an approver who leaves one of two quorum groups keeps the approval they can still give, for the other line', async () => {
    const request = await submit('migrate');
    expect((await decide(pat, request.id)).body.status).toBe('pending');
    await change('pat', { groups: ['sre'] });
    const after = await decide(sue, request.id);
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('approved');
    expect(after.body.timeline.some((entry) => entry.type === 'request.vote_withdrawn')).toBe(false);
    expect(after.body.timeline.find((entry) => entry.type === 'request.vote_narrowed')?.detail).toBe("pat's approval now counts only toward sre: pat's groups changed");
    await change('pat', { groups: ['sre', 'security'] });
  });

  it('a claim its holder can no longer back with a decision is released, so escalation is not held for them', async () => {
    const request = await submit();
    expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/claim`, sid.token)).body.claim?.by).toBe('sid');
    await change('sid', { groups: [] });
    const now = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, ADMIN_TOKEN)).body;
    expect(now.claim).toBeNull();
    expect(now.timeline.find((entry) => entry.type === 'request.released')?.detail).toContain("sid's roles or groups changed");
    await change('sid', { groups: ['sre'] });
  });
});
