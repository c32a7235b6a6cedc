import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalsNeeded, freezeRule, parsePolicy, PolicyError } from './domain/policy.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import type { GreenlightRequest, SyncResult } from '../protocol/index.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: deploy }
    require:
      - { group: sre, count: 1 }
      - { group: security, count: 1 }
    escalation:
      - { after: 10m, notify: [sre-leads] }
`;

type ErrorBody = { error: { code: string; message: string } };

describe('per-group quorum: one from SRE and one from Security', () => {
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

  const submit = async (reason: string) => {
    const reply = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason }));
    expect(reply.status).toBe(201);
    return reply.body;
  };
  const decide = (user: TestUser, id: string, decision: 'approve' | 'deny') =>
    hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision });
  const inboxOf = async (user: TestUser) => (await hub.connect(user)).sync().then((sync: SyncResult) => sync.inbox.map((request) => request.id));

  it('shows progress per line; a second SRE approval is refused; Security completes it with one grant', async () => {
    const request = await submit('one of each');
    expect(request.quorum).toEqual([
      { group: 'sre', count: 1, approvers: [] },
      { group: 'security', count: 1, approvers: [] },
    ]);
    const first = await decide(sam, request.id, 'approve');
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('pending');
    expect(first.body.quorum).toEqual([
      { group: 'sre', count: 1, approvers: ['sam'] },
      { group: 'security', count: 1, approvers: [] },
    ]);
    // The SRE line is met: the request no longer waits on another SRE, and their vote would count for nothing.
    expect(await inboxOf(sid)).not.toContain(request.id);
    expect(await inboxOf(sue)).toContain(request.id);
    const extra = await decide(sid, request.id, 'approve');
    expect(extra.status).toBe(409);
    expect(extra.body.error.code).toBe('QUORUM_LINE_MET');
    expect(extra.body.error.message).toContain('sre 1/1 · security 0/1');

    const last = await decide(sue, request.id, 'approve');
    expect(last.body.status).toBe('approved');
    expect(last.body.decisions.map((d) => d.approver)).toEqual(['sam', 'sue']);
    const seen = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token);
    expect(seen.body.grant?.status).toBe('active');
    expect(seen.body.timeline.filter((entry) => entry.type === 'grant.issued')).toHaveLength(1);
  });

  it('an approver who has voted cannot claim: a claim would hold escalation for someone who can add nothing', async () => {
    const request = await submit('sam votes, then claims');
    expect((await decide(sam, request.id, 'approve')).status).toBe(200);
    const claimed = await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${request.id}/claim`, sam.token, {});
    expect(claimed.status).toBe(409);
    expect(claimed.body.error.message).toContain('You already approved this request');
    // Nor can another SRE, whose approval would fill no line still open.
    const sids = await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${request.id}/claim`, sid.token, {});
    expect(sids.body.error.code).toBe('QUORUM_LINE_MET');
    expect((await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${request.id}/claim`, sue.token, {})).body.claim?.by).toBe('sue');
  });

  it('counts a person in both groups once, toward the line that still needs them', async () => {
    const request = await submit('pat is in both');
    const byPat = await decide(pat, request.id, 'approve');
    expect(byPat.body.status).toBe('pending');
    // Pat alone is not a quorum of two, and cannot vote again.
    expect((await decide(pat, request.id, 'approve')).body.error.code).toBe('ALREADY_DECIDED');
    // An SRE arriving moves pat to the Security line.
    const bySam = await decide(sam, request.id, 'approve');
    expect(bySam.body.status).toBe('approved');
    expect(bySam.body.quorum).toEqual([
      { group: 'sre', count: 1, approvers: ['sam'] },
      { group: 'security', count: 1, approvers: ['pat'] },
    ]);
  });

  it('one deny denies, whatever lines are met', async () => {
    const request = await submit('security says no');
    await decide(sam, request.id, 'approve');
    const denied = await decide(sue, request.id, 'deny');
    expect(denied.body.status).toBe('denied');
    expect(denied.body.decidedBy).toBe('sue');
  });

  it('records the per-line progress in the audit log', async () => {
    const request = await submit('audited progress');
    await decide(sue, request.id, 'approve');
    const events = await hub.api<{ events: { type: string; requestId: string; data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=request.vote&actor=sue', ADMIN_TOKEN);
    const vote = events.body.events.find((event) => event.requestId === request.id);
    expect(vote?.data.lines).toEqual([
      { group: 'sre', count: 1, approvers: [] },
      { group: 'security', count: 1, approvers: ['sue'] },
    ]);
  });

  it('records where the lines stand when a disabled approver\'s vote is withdrawn', async () => {
    const sol = await hub.createUser('sol', ['approver'], ['security']);
    const request = await submit('sol approves, then leaves');
    await decide(sam, request.id, 'approve');
    // A request already approved keeps its approvals: only those still waiting lose sol's vote.
    expect((await decide(sol, request.id, 'approve')).body.status).toBe('approved');
    const waiting = await submit('sol approves first, then leaves');
    expect((await decide(sol, waiting.id, 'approve')).body.status).toBe('pending');
    expect((await hub.api('POST', '/api/v1/users/sol/disable', ADMIN_TOKEN)).status).toBe(200);
    const events = await hub.api<{ events: { requestId: string; data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=request.vote_withdrawn', ADMIN_TOKEN);
    expect(events.body.events.map((event) => event.requestId)).toEqual([waiting.id]);
    expect(events.body.events[0]?.data).toMatchObject({
      approvals: ['sol'],
      remaining: 0,
      of: 2,
      lines: [
        { group: 'sre', count: 1, approvers: [] },
        { group: 'security', count: 1, approvers: [] },
      ],
    });
  });
});

describe('a policy with require lines', () => {
  it('names the rule and field when require is mixed with approvers or lists a group twice', () => {
    const mixed = 'rules:\n  - name: prod-db\n    approvers: [sre]\n    require: [{ group: sre, count: 1 }]\n';
    expect(() => parsePolicy(mixed)).toThrow(PolicyError);
    expect(() => parsePolicy(mixed)).toThrow('rule "prod-db": require: require replaces approvers');
    const twice = 'rules:\n  - name: prod-db\n    require: [{ group: sre, count: 1 }, { group: sre, count: 2 }]\n';
    expect(() => parsePolicy(twice)).toThrow('rule "prod-db": require.1.group: group "sre" has two lines');
    // Written beside require, minApprovals would be ignored: one approval granted where three were meant.
    const ignored = 'rules:\n  - name: prod-db\n    require: [{ group: sre, count: 1 }]\n    minApprovals: 3\n';
    expect(() => parsePolicy(ignored)).toThrow('rule "prod-db": minApprovals: require replaces minApprovals');
  });

  it('needs the sum of its lines, from their groups', () => {
    const policy = parsePolicy(POLICY);
    expect(policy.rules[0]?.require).toEqual([
      { group: 'sre', count: 1 },
      { group: 'security', count: 1 },
    ]);
    const rule = policy.rules[0]!;
    expect(approvalsNeeded(rule)).toBe(2);
    expect(freezeRule(rule)).toMatchObject({ minApprovals: 2, approvers: ['sre', 'security'] });
  });
});

describe('the hub warns about require lines nobody staffs', () => {
  it('names a require group with no active member', async () => {
    const { unstaffedPolicyNames } = await import('./domain/approver-reach.js');
    const hub = new TestHub('sqlite', { policy: POLICY });
    await hub.start();
    try {
      await hub.createUser('sam', ['approver'], ['sre']);
      const unstaffed = await unstaffedPolicyNames(hub.hub.ctx.store.db, parsePolicy(POLICY));
      expect(unstaffed.map((entry) => entry.name).sort()).toEqual(['security', 'sre-leads']);
    } finally {
      await hub.dispose();
    }
  });
});
