import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditPage, Delegation, GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { call } from './test-support/http.js';

const POLICY = `
rules:
  - name: prod-deploy
    match: { action: deploy }
    approvers: [sre]
    claimHolds: 4h
`;

const HOUR = 3_600_000;

// An admin reading the history sees when a delegation ended: ended early by someone, or run out at its end.
describe('a delegation that runs out, in the audit history', () => {
  const clock = new ManualClock(new Date('2026-12-07T09:00:00Z'));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let alice: TestUser, dana: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    dana = await hub.createUser('dana', ['approver'], ['dba']);
  });
  afterAll(() => hub.dispose());

  async function delegateToDana(from: TestUser, forMs: number): Promise<Delegation> {
    const endsAt = new Date(clock.now().getTime() + forMs).toISOString();
    const created = await hub.api<Delegation>('POST', '/api/v1/delegations', from.token, { to: 'dana', endsAt, reason: 'on leave' });
    expect(created.status).toBe(201);
    return created.body;
  }
  /** The history's events about one delegation, oldest first, as the admin's audit view pages them. */
  async function historyOf(delegation: Delegation): Promise<AuditEvent[]> {
    const { status, body } = await hub.api<AuditPage>('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN);
    expect(status).toBe(200);
    return (body.events as AuditEvent[]).filter((event) => event.data.delegation === delegation.id).reverse();
  }
  const ranOut = (delegation: Delegation, from: string) => ({
    at: delegation.endsAt,
    actor: 'greenlight',
    type: 'delegation.expired',
    outcome: 'expired',
    data: { delegation: delegation.id, from, to: 'dana', endsAt: delegation.endsAt },
  });

  it('says the delegation ran out at its end, once, though its delegate held no claim', async () => {
    const sue = await hub.createUser('sue', ['approver'], ['sre']);
    const delegation = await delegateToDana(sue, HOUR);

    clock.advance(HOUR);
    await hub.hub.scheduler.runNow();
    clock.advance(HOUR);
    await hub.hub.scheduler.runNow();

    expect((await historyOf(delegation)).map((event) => event.type)).toEqual(['delegation.created', 'delegation.expired']);
    expect((await historyOf(delegation))[1]).toMatchObject(ranOut(delegation, 'sue'));
  });

  it('says so before the claims it released, which name it as the reason', async () => {
    const sam = await hub.createUser('sam', ['approver'], ['sre']);
    const delegation = await delegateToDana(sam, HOUR);
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;
    expect((await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${request.id}/claim`, dana.token)).body.claim?.by).toBe('dana');

    clock.advance(HOUR);
    await hub.hub.scheduler.runNow();

    expect((await historyOf(delegation)).map((event) => event.type)).toEqual(['delegation.created', 'delegation.expired']);
    const { body } = await hub.api<AuditPage>('GET', '/api/v1/audit?limit=2', ADMIN_TOKEN);
    expect(body.events.map((event) => [event.type, event.requestId])).toEqual([
      ['request.released', request.id],
      ['delegation.expired', null],
    ]);
  });

  it('says so once the hub starts again, if it ran out while the hub was down, naming when it ended', async () => {
    const tia = await hub.createUser('tia', ['approver'], ['sre']);
    const delegation = await delegateToDana(tia, HOUR);
    await hub.stop();
    clock.advance(3 * HOUR);
    await hub.start();
    await hub.hub.scheduler.runNow();

    const history = await historyOf(delegation);
    expect(history.map((event) => event.type)).toEqual(['delegation.created', 'delegation.expired']);
    expect(history[1]).toMatchObject({ ...ranOut(delegation, 'tia'), at: clock.now().toISOString() });
  });

  it('says nothing more of a delegation ended early, which its end already told', async () => {
    const uma = await hub.createUser('uma', ['approver'], ['sre']);
    const delegation = await delegateToDana(uma, HOUR);
    expect((await hub.api('DELETE', `/api/v1/delegations/${delegation.id}`, uma.token)).status).toBe(200);

    clock.advance(HOUR);
    await hub.hub.scheduler.runNow();

    expect((await historyOf(delegation)).map((event) => event.type)).toEqual(['delegation.created', 'delegation.ended']);
  });

  it('leaves the audit chain whole, and its export lists the run-out delegations', async () => {
    const verified = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verified.body).toMatchObject({ ok: true });
    const exported = await call(hub.url, 'GET', '/api/v1/audit?type=delegation.expired&format=jsonl', ADMIN_TOKEN);
    expect(exported.status, exported.text).toBe(200);
    const lines = exported.text.trim().split('\n').map((line) => JSON.parse(line) as AuditEvent);
    expect(lines.map((event) => [event.data.from, event.data.to])).toEqual([
      ['tia', 'dana'],
      ['sam', 'dana'],
      ['sue', 'dana'],
    ]);
  });
});
