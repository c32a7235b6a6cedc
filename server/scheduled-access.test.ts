import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest, VerifyResult } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { cli } from './cli/cli-harness.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: db-open }
    approvers: [dba]
    grantTtl: 4h
    maxScheduleAhead: 2d
  - name: deploys
    match: { action: deploy }
    approvers: [dba]
    grantTtl: 1h
    expireAfter: 2h
  - name: two-person
    match: { action: rotate-keys }
    approvers: [dba]
    minApprovals: 2
`;

const HOUR = 3_600_000;
type ErrorBody = { error: { code: string; message: string } };
const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('scheduled access on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  // Thursday 24 December 2026, 15:00 in Berlin.
  const clock = new ManualClock('2026-12-24T14:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, dora: TestUser, dan: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    dora = await hub.createUser('dora', ['approver'], ['dba']);
    dan = await hub.createUser('dan', ['approver'], ['dba']);
  });
  afterAll(() => hub.dispose());

  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const dbOpen = (overrides: Record<string, unknown> = {}) => deployRequest({ action: 'db-open', resource: 'orders-db', ...overrides });
  const submit = (body: unknown, user: TestUser = alice) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, body);
  const decide = (id: string, body: unknown, user: TestUser = dora) => hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, body);
  const get = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token)).body;
  const verify = async (token: string) => (await hub.api<VerifyResult>('POST', '/api/v1/grants/verify', null, { token })).body;
  const redeem = (token: string) => hub.api<VerifyResult & ErrorBody>('POST', '/api/v1/grants/redeem', null, { token });

  it('a start approved early is valid from that start for the full TTL, not from the approval', async () => {
    const submitted = await submit(dbOpen({ notBefore: '2026-12-24T23:00:00+01:00', requestedTtlSeconds: 2 * 3600 }));
    expect(submitted.status).toBe(201);
    expect(submitted.body.notBefore).toBe('2026-12-24T22:00:00.000Z');

    await advance(HOUR);
    const approved = (await decide(submitted.body.id, { decision: 'approve' })).body;
    expect(approved.status).toBe('approved');
    const grant = (await get(approved.id)).grant;
    expect(grant?.notBefore).toBe('2026-12-24T22:00:00.000Z');
    expect(grant?.expiresAt).toBe('2026-12-25T00:00:00.000Z');

    // Before its start a target system hears "not yet", with the start; the grant stays usable.
    const early = await verify(grant!.token!);
    expect(early).toMatchObject({ valid: false, reason: 'not_yet_valid', grant: { notBefore: '2026-12-24T22:00:00.000Z', expiresAt: '2026-12-25T00:00:00.000Z' } });
    const tooSoon = await redeem(grant!.token!);
    expect(tooSoon.status).toBe(409);
    expect(tooSoon.body.error.code).toBe('NOT_YET_VALID');
    expect(tooSoon.body.error.message).toContain('2026-12-24T22:00:00.000Z');
    const verifiedByCli = await cli(['grant', 'verify', grant!.token!], { GREENLIGHT_HUB: hub.url });
    expect(verifiedByCli.code).toBe(1);
    expect(verifiedByCli.stdout).toContain('invalid: it is not valid yet');
    expect(verifiedByCli.stdout).toContain('from 2026-12-24T22:00:00.000Z until 2026-12-25T00:00:00.000Z');
    const fromCli = await cli(['grant', 'redeem', grant!.token!], { GREENLIGHT_HUB: hub.url });
    expect(fromCli.code).not.toBe(0);
    expect(fromCli.stderr + fromCli.stdout).toContain('starts at 2026-12-24T22:00:00.000Z');

    // The hub restarts before the start; the grant survives and works from its start.
    await hub.stop();
    clock.set('2026-12-24T22:00:00.000Z');
    await hub.start();
    expect((await verify(grant!.token!)).valid).toBe(true);
    const used = await redeem(grant!.token!);
    expect(used.status).toBe(200);
    expect(used.body.valid).toBe(true);
  });

  it('an approver moves the start on approve: audited, and the requester is told', async () => {
    clock.set('2026-12-26T09:00:00.000Z');
    const aliceClient = await hub.connect(alice);
    const updates = collect<GreenlightRequest>((listener) => aliceClient.on('request:updated', listener));
    const submitted = (await submit(dbOpen({ notBefore: '2026-12-26T12:00:00Z', requestedTtlSeconds: 3600 }))).body;
    const approved = await decide(submitted.id, { decision: 'approve', notBefore: '2026-12-26T15:30:00+01:00', comment: 'after the batch run' });
    expect(approved.status).toBe(200);
    expect(approved.body.notBefore).toBe('2026-12-26T14:30:00.000Z');

    const told = await updates.next((request) => request.id === submitted.id && request.status === 'approved');
    expect(told.notBefore).toBe('2026-12-26T14:30:00.000Z');
    expect(told.grant?.notBefore).toBe('2026-12-26T14:30:00.000Z');
    expect(told.grant?.expiresAt).toBe('2026-12-26T15:30:00.000Z');
    const audit = await hub.api<{ events: { requestId: string; data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=request.approved&limit=1000', ADMIN_TOKEN);
    const event = audit.body.events.find((e) => e.requestId === submitted.id);
    expect(event?.data.startChanged).toEqual({ from: '2026-12-26T12:00:00.000Z', to: '2026-12-26T14:30:00.000Z' });
  });

  it('with two approvals needed, each approver may move the start and the latest change wins', async () => {
    clock.set('2026-12-27T09:00:00.000Z');
    const submitted = (await submit(deployRequest({ action: 'rotate-keys', resource: 'kms', notBefore: '2026-12-27T12:00:00Z' }))).body;
    const voted = (await decide(submitted.id, { decision: 'approve', notBefore: '2026-12-27T14:00:00Z' })).body;
    expect(voted.status).toBe('pending');
    expect(voted.notBefore).toBe('2026-12-27T14:00:00.000Z');
    // The second approver decides over the socket, as the app does.
    const danClient = await hub.connect(dan);
    const approved = await danClient.decide({ requestId: submitted.id, decision: 'approve', notBefore: '2026-12-27T13:00:00+00:00' });
    expect(approved.status).toBe('approved');
    expect(approved.grant?.notBefore).toBe('2026-12-27T13:00:00.000Z');
    const audit = await hub.api<{ events: { requestId: string; data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=request.vote&limit=1000', ADMIN_TOKEN);
    expect(audit.body.events.find((e) => e.requestId === submitted.id)?.data.startChanged).toEqual({ from: '2026-12-27T12:00:00.000Z', to: '2026-12-27T14:00:00.000Z' });
  });

  it('a start with no ask counts from the approval, never from submission', async () => {
    clock.set('2026-12-28T09:00:00.000Z');
    const submitted = (await submit(dbOpen({ requestedTtlSeconds: 3 * 3600 }))).body;
    await advance(HOUR / 2);
    const approved = (await decide(submitted.id, { decision: 'approve' })).body;
    expect(approved.grant?.notBefore).toBe('2026-12-28T09:30:00.000Z');
    expect(approved.grant?.expiresAt).toBe('2026-12-28T12:30:00.000Z');
  });

  it('refuses a start in the past, beyond maxScheduleAhead, or a TTL of zero, naming the field', async () => {
    clock.set('2026-12-29T09:00:00.000Z');
    const past = await submit(dbOpen({ notBefore: '2026-12-29T08:59:00Z' }));
    expect(past.status).toBe(400);
    expect(past.body.error.message).toMatch(/notBefore: must be in the future/);
    const far = await submit(dbOpen({ notBefore: '2026-12-31T09:00:01Z' }));
    expect(far.status).toBe(400);
    expect(far.body.error.message).toMatch(/notBefore: must be at most 2d ahead/);
    const noOffset = await submit(dbOpen({ notBefore: '2026-12-29T23:00:00' }));
    expect(noOffset.status).toBe(400);
    expect(noOffset.body.error.message).toMatch(/notBefore: expected an RFC 3339/);
    const zero = await submit(dbOpen({ requestedTtlSeconds: 0 }));
    expect(zero.status).toBe(400);
    expect(zero.body.error.message).toMatch(/requestedTtlSeconds: /);
    const pending = (await submit(dbOpen({}))).body;
    const moveToPast = await decide(pending.id, { decision: 'approve', notBefore: '2026-12-29T08:00:00Z' });
    expect(moveToPast.status).toBe(400);
    expect(moveToPast.body.error.message).toMatch(/notBefore: must be in the future/);
    expect((await get(pending.id)).status).toBe('pending');
  });

  it('a request scheduled beyond its decision deadline is still decidable until then', async () => {
    clock.set('2026-12-30T09:00:00.000Z');
    const submitted = (await submit(deployRequest({ notBefore: '2026-12-30T20:00:00Z' }))).body;
    expect(submitted.expiresAt).toBe('2026-12-30T11:00:00.000Z');
    await advance(HOUR + HOUR / 2);
    const approved = (await decide(submitted.id, { decision: 'approve' })).body;
    expect(approved.status).toBe('approved');
    expect(approved.grant?.notBefore).toBe('2026-12-30T20:00:00.000Z');
    expect(approved.grant?.expiresAt).toBe('2026-12-30T21:00:00.000Z');
    const undecided = (await submit(deployRequest({ reason: 'second', notBefore: '2026-12-30T20:00:00Z' }))).body;
    await advance(2 * HOUR);
    expect((await get(undecided.id)).status).toBe('expired');
  });

  it('greenlight request --start --ttl schedules from the command line', async () => {
    clock.set('2026-12-24T12:00:00.000Z');
    const result = await cli(
      ['request', '--action', 'db-open', '--resource', 'orders-db', '--env', 'production', '--reason', 'maintenance', '--start', '2026-12-24T23:00:00+01:00', '--ttl', '2h', '--json'],
      { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: alice.token },
    );
    expect(result.code).toBe(0);
    const request = JSON.parse(result.stdout) as GreenlightRequest;
    expect(request.notBefore).toBe('2026-12-24T22:00:00.000Z');
    expect(request.requestedTtlSeconds).toBe(7200);
    const env = { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: dora.token };
    const moved = await cli(['decide', request.id, 'approve', '--start', '2026-12-25T00:30:00+01:00', '--comment', 'after midnight'], env);
    expect(moved.code).toBe(0);
    const shown = await cli(['show', request.id], env);
    expect(shown.stdout).toContain('starts       2026-12-24T23:30:00.000Z');
    expect(shown.stdout).toMatch(/grant +gnt_\w+ active from 2026-12-24T23:30:00.000Z until 2026-12-25T01:30:00.000Z/);
    const badStart = await cli(['decide', request.id, 'approve', '--start', 'midnight'], env);
    expect(badStart.code).toBe(2);
    expect(badStart.stderr).toContain('--start');
    const bad = await cli(['request', '--action', 'db-open', '--resource', 'orders-db', '--env', 'production', '--reason', 'x', '--start', 'tonight'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: alice.token });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--start');
  });
});
