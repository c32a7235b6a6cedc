import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod-deploy
    match: { action: deploy }
    approvers: [sre]
    escalation:
      - { after: 10m, notify: [leads] }
`;

// A delegate claims a request for the approver they stand in for. Once that approver can no longer
// decide it (moved out of the group, disabled, or the delegation ended), the delegate's claim backs
// nobody's decision, yet would hold escalation back until it lapsed.
describe("a delegate's claim once the delegator they claimed for can no longer decide", () => {
  const hub = new TestHub('sqlite', { policy: POLICY });
  let alice: TestUser;
  let dana: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    // Dana approves for another team: she may decide prod deploys only for whoever she stands in for.
    dana = await hub.createUser('dana', ['approver'], ['dba']);
    await hub.createUser('lena', ['lead'], ['leads']);
  });
  afterAll(() => hub.dispose());

  const endsAt = () => new Date(Date.now() + 24 * 3600 * 1000).toISOString();
  const delegateToDana = async (from: TestUser) => (await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to: 'dana', endsAt: endsAt(), reason: 'on leave' })).body;
  const claimedByDana = async () => {
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;
    const claimed = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/claim`, dana.token);
    expect(claimed.body.claim?.by).toBe('dana');
    return request.id;
  };
  const current = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, ADMIN_TOKEN)).body;
  const hearsUpdates = async (user: TestUser) => {
    const client = await hub.connect(user);
    return collect<GreenlightRequest>((listener) => client.on('request:updated', listener));
  };

  it('is released when the delegator leaves the approvers, the history says why, and the delegate sees it go at once', async () => {
    const sam = await hub.createUser('sam', ['approver'], ['sre']);
    const delegation = await delegateToDana(sam);
    const id = await claimedByDana();
    const danaHears = await hearsUpdates(dana);

    expect((await hub.api('PATCH', '/api/v1/users/sam', ADMIN_TOKEN, { groups: ['dba'] })).status).toBe(200);

    const after = await current(id);
    expect(after.claim).toBeNull();
    expect(after.timeline.find((entry) => entry.type === 'request.released')?.detail).toContain("dana can no longer decide it for sam");
    await danaHears.next((request) => request.id === id && request.claim === null);
    await hub.api('DELETE', `/api/v1/delegations/${delegation.id}`, ADMIN_TOKEN);
  });

  it('is released when the delegator is disabled, and the delegate sees it go at once', async () => {
    const sid = await hub.createUser('sid', ['approver'], ['sre']);
    await delegateToDana(sid);
    const id = await claimedByDana();
    const danaHears = await hearsUpdates(dana);

    expect((await hub.api('POST', '/api/v1/users/sid/disable', ADMIN_TOKEN)).status).toBe(200);

    const after = await current(id);
    expect(after.claim).toBeNull();
    expect(after.timeline.find((entry) => entry.type === 'request.released')?.detail).toContain('dana can no longer decide it for sid');
    await danaHears.next((request) => request.id === id && request.claim === null);
  });

  it('is released when the delegation ends early, and the delegate sees it go at once', async () => {
    const sue = await hub.createUser('sue', ['approver'], ['sre']);
    const delegation = await delegateToDana(sue);
    const id = await claimedByDana();
    const danaHears = await hearsUpdates(dana);

    expect((await hub.api('DELETE', `/api/v1/delegations/${delegation.id}`, sue.token)).status).toBe(200);

    const after = await current(id);
    expect(after.claim).toBeNull();
    expect(after.timeline.find((entry) => entry.type === 'request.released')?.detail).toContain('dana can no longer decide it for sue');
    // Her app showed it as claimed by her, with a Release button: it no longer does, without waiting for a sync.
    const heard = await danaHears.next((request) => request.id === id && request.claim === null);
    expect(heard.timeline.some((entry) => entry.type === 'request.released')).toBe(true);
  });

  it('is released even when the delegate also stands in for the requester, who may not decide their own request', async () => {
    const tom = await hub.createUser('tom', ['approver'], ['sre']);
    const uma = await hub.createUser('uma', ['approver'], ['sre']);
    const fromTom = await delegateToDana(tom);
    const fromUma = await delegateToDana(uma);
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', uma.token, deployRequest())).body;
    expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/claim`, dana.token)).body.claim?.by).toBe('dana');

    expect((await hub.api('PATCH', '/api/v1/users/tom', ADMIN_TOKEN, { groups: ['dba'] })).status).toBe(200);

    const after = await current(request.id);
    expect(after.claim).toBeNull();
    expect(after.timeline.find((entry) => entry.type === 'request.released')?.detail).toContain('dana can no longer decide it for tom');
    await hub.api('DELETE', `/api/v1/delegations/${fromTom.id}`, ADMIN_TOKEN);
    await hub.api('DELETE', `/api/v1/delegations/${fromUma.id}`, ADMIN_TOKEN);
  });

  it('stays while the delegate still stands in for another approver of the request', async () => {
    const pat = await hub.createUser('pat', ['approver'], ['sre']);
    const kim = await hub.createUser('kim', ['approver'], ['sre']);
    const fromPat = await delegateToDana(pat);
    const fromKim = await delegateToDana(kim);
    const id = await claimedByDana();

    expect((await hub.api('DELETE', `/api/v1/delegations/${fromPat.id}`, pat.token)).status).toBe(200);

    expect((await current(id)).claim?.by).toBe('dana');
    await hub.api('DELETE', `/api/v1/delegations/${fromKim.id}`, ADMIN_TOKEN);
  });
});
