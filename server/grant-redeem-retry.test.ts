import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { ADMIN_TOKEN, approvedRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const pg = await postgresAvailability();

const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], grantTtl: 1h }
`;

type Answer = VerifyResult & { error?: { code: string; message: string } };

describe.each<DatabaseKind>(['sqlite', 'postgres'])('redeeming a grant again after the answer was lost, on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2026-12-08T09:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => hub.dispose());

  const redeem = (body: Record<string, unknown>) => hub.api<Answer>('POST', '/api/v1/grants/redeem', null, body);
  const redemptionsOf = async (requestId: string) =>
    hub.hub.ctx.store.db.selectFrom('audit_events').select(['data']).where('request_id', '=', requestId).where('type', '=', 'grant.redeemed').execute();
  let n = 0;
  const key = () => `deploy-${kind}-attempt-${++n}-0123456789`;

  it('the same key again is told its use went through, with the same time; another key, or none, is told the grant was used', async () => {
    const grant = await approvedRequest(hub, alice, bob, { resource: `web-${kind}-1` });
    const mine = key();
    const first = await redeem({ token: grant.token, redemptionKey: mine });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ valid: true, grant: { requestId: grant.id } });
    expect(first.body.redeemedAt).toBe('2026-12-08T09:00:00.000Z');

    clock.advance(30_000);
    const retried = await redeem({ token: grant.token, redemptionKey: mine });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ ...first.body, repeated: true });
    expect(first.body.repeated).toBeUndefined();

    for (const other of [{ redemptionKey: key() }, {}]) {
      const refused = await redeem({ token: grant.token, ...other });
      expect(refused.status).toBe(409);
      expect(refused.body.error?.code).toBe('ALREADY_REDEEMED');
    }
    // Used once: one redemption in the log, holding the key's hash, never the key.
    const events = await redemptionsOf(grant.id);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).not.toContain(mine);
    expect(JSON.parse(events[0]?.data ?? '{}')).toMatchObject({ redemptionKeyHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Each time "valid" was said again is in the log, as a retry of that one use.
    const retries = await hub.hub.ctx.store.db.selectFrom('audit_events').select(['data']).where('request_id', '=', grant.id).where('type', '=', 'grant.redemption_repeated').execute();
    expect(retries.map((event) => JSON.parse(event.data) as unknown)).toEqual([{ jti: first.body.grant?.jti, redeemedAt: first.body.redeemedAt }]);
    const history = await hub.api<{ events: { type: string; data: unknown }[] }>('GET', `/api/v1/audit?requestId=${grant.id}`, ADMIN_TOKEN);
    expect(JSON.stringify(history.body)).not.toContain(mine);
    const verified = await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verified.body).toMatchObject({ ok: true });
  });

  it('two tries of the same use at once both hear it went through; two different uses, only one does', async () => {
    const same = await approvedRequest(hub, alice, bob, { resource: `web-${kind}-2` });
    const mine = key();
    const together = await Promise.all([redeem({ token: same.token, redemptionKey: mine }), redeem({ token: same.token, redemptionKey: mine })]);
    expect(together.map((answer) => answer.status)).toEqual([200, 200]);
    expect(together[0]?.body.redeemedAt).toBe(together[1]?.body.redeemedAt);
    expect(await redemptionsOf(same.id)).toHaveLength(1);

    const contested = await approvedRequest(hub, alice, bob, { resource: `web-${kind}-3` });
    const racing = await Promise.all([redeem({ token: contested.token, redemptionKey: key() }), redeem({ token: contested.token, redemptionKey: key() })]);
    expect(racing.map((answer) => answer.status).sort()).toEqual([200, 409]);
  });

  it('a retry is refused once the grant’s span has ended, its requester was disabled, or it names another payload', async () => {
    const ended = await approvedRequest(hub, alice, bob, { resource: `web-${kind}-4` });
    const late = key();
    expect((await redeem({ token: ended.token, redemptionKey: late })).status).toBe(200);
    clock.advance(60 * 60_000 + 1_000);
    const afterEnd = await redeem({ token: ended.token, redemptionKey: late });
    expect(afterEnd.status).not.toBe(200);

    const shifted = await approvedRequest(hub, alice, bob, { resource: `web-${kind}-5` });
    const view = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${shifted.id}`, ADMIN_TOKEN)).body;
    const payload = { action: view.action, resource: view.resource, environment: view.environment, context: view.context ?? {} };
    const mine = key();
    expect((await redeem({ token: shifted.token, redemptionKey: mine, payload })).status).toBe(200);
    const otherPayload = await redeem({ token: shifted.token, redemptionKey: mine, payload: { ...payload, resource: 'billing-api' } });
    expect(otherPayload.status).toBe(409);
    expect(otherPayload.body.error?.code).toBe('ALREADY_REDEEMED');

    const carol = await hub.createUser(`carol-${kind}`, ['requester']);
    const disabled = await approvedRequest(hub, carol, bob, { resource: `web-${kind}-6` });
    const carols = key();
    expect((await redeem({ token: disabled.token, redemptionKey: carols })).status).toBe(200);
    expect((await hub.api('POST', `/api/v1/users/carol-${kind}/disable`, ADMIN_TOKEN)).status).toBe(200);
    expect((await redeem({ token: disabled.token, redemptionKey: carols })).status).not.toBe(200);
  });

  it('a key too short to be one nobody else would pick is refused before anything is used', async () => {
    const grant = await approvedRequest(hub, alice, bob, { resource: `web-${kind}-7` });
    const refused = await redeem({ token: grant.token, redemptionKey: 'retry' });
    expect(refused.status).toBe(400);
    expect(refused.body.error?.code).toBe('INVALID_INPUT');
    expect(refused.body.error?.message).toMatch(/redemptionKey: must be 16 to 128 letters/);
    expect(await redemptionsOf(grant.id)).toHaveLength(0);
  });
});
