import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Delegation, GreenlightRequest } from '../protocol/index.js';
import { cli } from './cli/cli-harness.js';
import { collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
    maxPending: 1000
  - name: two
    match: { action: migrate }
    approvers: [sre]
    minApprovals: 2
    maxPending: 1000
  - name: staging
    match: { action: restart }
    autoApprove: true
`;

type ErrorBody = { error: { code: string; message: string } };
const DAY = 86_400_000;

const pg = await postgresAvailability();

/**
 * Sue is away and dana decides for her. Whoever later reads who decided (an approver refused, the
 * requester's view, the CLI) must learn it was dana, for sue: "dana" alone sends them looking for
 * dana among the approvers.
 */
describe.each<DatabaseKind>(['sqlite', 'postgres'])('a request a delegate decided names the approver they decided for, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const hub = new TestHub(kind, { policy: POLICY });
  let alice: TestUser, sue: TestUser, dana: TestUser, erin: TestUser;

  const submit = async (action = 'deploy') => {
    const submitted = await hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', alice.token, deployRequest({ action, reason: 'release 1.2' }));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    return submitted.body;
  };
  const decide = (user: TestUser, id: string, decision: 'approve' | 'deny' = 'approve') =>
    hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision });
  const refusal = (status: string, who: string) => ({ code: 'ALREADY_DECIDED', message: `This request is already ${status} by ${who}; nothing to decide.` });

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    sue = await hub.createUser('sue', ['approver'], ['sre']);
    // Dana approves nothing of her own here: whatever she decides, she decides for sue.
    dana = await hub.createUser('dana', ['approver'], ['devs']);
    erin = await hub.createUser('erin', ['approver'], ['sre']);
    const made = await hub.api<Delegation & ErrorBody>('POST', '/api/v1/delegations', sue.token, { to: 'dana', endsAt: new Date(Date.now() + 7 * DAY).toISOString(), reason: 'holiday' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
  });
  afterAll(() => hub.dispose());

  it('refuses another approver, and sue herself, naming dana for sue once dana approved; the view says the same to the requester', async () => {
    const alicesApp = await hub.connect(alice);
    const updated = collect<GreenlightRequest>((listener) => alicesApp.on('request:updated', listener));
    const request = await submit();

    const approved = await decide(dana, request.id);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: 'dana', decidedFor: 'sue' });

    expect((await decide(erin, request.id)).body.error).toEqual(refusal('approved', 'dana for sue'));
    expect((await decide(sue, request.id, 'deny')).body.error).toEqual(refusal('approved', 'dana for sue'));
    const heard = await updated.next((r) => r.id === request.id && r.status === 'approved');
    expect(heard).toMatchObject({ decidedBy: 'dana', decidedFor: 'sue' });
    expect((await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${request.id}`, alice.token)).body).toMatchObject({ decidedBy: 'dana', decidedFor: 'sue' });
    alicesApp.close();
  });

  it('names dana for sue on a denial she gave for sue', async () => {
    const request = await submit();
    expect((await decide(dana, request.id, 'deny')).body).toMatchObject({ status: 'denied', decidedBy: 'dana', decidedFor: 'sue' });
    expect((await decide(erin, request.id)).body.error).toEqual(refusal('denied', 'dana for sue'));
  });

  it('names only the approver who decided as themselves, and the policy for what it approved by itself', async () => {
    const own = await submit();
    const approved = await decide(erin, own.id);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: 'erin' });
    expect(approved.body).not.toHaveProperty('decidedFor');
    expect((await decide(dana, own.id)).body.error).toEqual(refusal('approved', 'erin'));

    const auto = await submit('restart');
    expect(auto).toMatchObject({ status: 'approved', decidedBy: 'policy:staging' });
    expect(auto).not.toHaveProperty('decidedFor');
  });

  it('under a quorum, names whoever cast the deciding vote: dana for sue when hers was last, erin alone when erin\'s was', async () => {
    const danaLast = await submit('migrate');
    expect((await decide(erin, danaLast.id)).body.status).toBe('pending');
    expect((await decide(dana, danaLast.id)).body).toMatchObject({ status: 'approved', decidedBy: 'dana', decidedFor: 'sue' });

    const erinLast = await submit('migrate');
    expect((await decide(dana, erinLast.id)).body.status).toBe('pending');
    const approved = await decide(erin, erinLast.id);
    expect(approved.body).toMatchObject({ status: 'approved', decidedBy: 'erin' });
    expect(approved.body).not.toHaveProperty('decidedFor');
  });

  it('prints dana for sue in the CLI, when she decides there and when anyone lists it', async () => {
    const request = await submit();
    const decided = await cli(['decide', request.id, 'approve'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: dana.token });
    expect(decided.code, decided.stderr).toBe(0);
    expect(decided.stdout.trim()).toBe(`${request.id} approved by dana for sue: deploy on payments-api in production`);
    const listed = await cli(['list', '--status', 'approved'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: alice.token });
    expect(listed.stdout).toContain(`${request.id} approved by dana for sue: deploy on payments-api in production`);
  });
});
