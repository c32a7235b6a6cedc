import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantExpiringPayload, GreenlightRequest } from '../protocol/index.js';
import { ManualClock } from './clock.js';
import { startCli } from './cli/cli-harness.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const POLICY = `
rules:
  - name: prod-db
    match: { action: db-open }
    approvers: [dba]
    grantTtl: 2h
    extensions: { autoApprove: 1, maxTotal: 3h }
`;

const MINUTE = 60_000;
type ErrorBody = { error: { code: string; message: string } };
const pg = await postgresAvailability();

describe.each<DatabaseKind>(['sqlite', 'postgres'])('grant extensions on %s', (kind) => {
  if (kind === 'postgres' && !pg.ok) {
    it.skip(`needs PostgreSQL (skipped: ${pg.ok ? '' : pg.reason})`, () => undefined);
    return;
  }
  const clock = new ManualClock('2026-12-22T09:00:00.000Z');
  const hub = new TestHub(kind, { policy: POLICY, clock });
  let alice: TestUser, dora: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    dora = await hub.createUser('dora', ['approver'], ['dba']);
  });
  afterAll(() => hub.dispose());

  const advance = async (ms: number) => {
    clock.advance(ms);
    await hub.hub.scheduler.runNow();
  };
  const dbOpen = (overrides: Record<string, unknown> = {}) => deployRequest({ action: 'db-open', resource: 'orders-db', ...overrides });
  const submit = async (body: unknown) => (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, body)).body;
  const approve = async (id: string) => (await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, dora.token, { decision: 'approve' })).body;
  const extend = (jti: string, body: unknown, user: TestUser = alice) => hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/grants/${jti}/extend`, user.token, body);
  const get = async (id: string) => (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${id}`, alice.token)).body;

  it('the first extension is approved at once, later ones go to the approvers, and maxTotal caps them all — across a restart', async () => {
    const aliceClient = await hub.connect(alice);
    const expiring = collect<GrantExpiringPayload>((listener) => aliceClient.on('grant:expiring', listener));
    const original = await approve((await submit(dbOpen({ requestedTtlSeconds: 3600 }))).id);
    const first = original.grant!;
    expect(first.expiresAt).toBe('2026-12-22T10:00:00.000Z');

    const tooEarly = await extend(first.jti, { ttlSeconds: 3600, reason: 'migration runs long' });
    expect(tooEarly.status).toBe(409);
    expect(tooEarly.body.error.message).toContain('2026-12-22T09:45:00.000Z');

    // Ten minutes before the end the requester hears of it.
    await advance(50 * MINUTE);
    expect((await expiring.next((payload) => payload.request.id === original.id)).expiresAt).toBe('2026-12-22T10:00:00.000Z');

    expect((await extend(first.jti, { ttlSeconds: 3600, reason: 'x' }, dora)).status).toBe(403);
    const zero = await extend(first.jti, { ttlSeconds: 0, reason: 'x' });
    expect(zero.status).toBe(400);
    expect(zero.body.error.message).toMatch(/ttlSeconds: /);

    const extended = await extend(first.jti, { ttlSeconds: 3600, reason: 'migration runs long' });
    expect(extended.status).toBe(201);
    expect(extended.body).toMatchObject({ status: 'approved', extends: first.jti, reason: 'migration runs long', action: 'db-open' });
    expect(extended.body.grant).toMatchObject({ notBefore: '2026-12-22T10:00:00.000Z', expiresAt: '2026-12-22T11:00:00.000Z' });
    expect((await get(original.id)).grant).toMatchObject({ jti: first.jti, status: 'active', expiresAt: '2026-12-22T10:00:00.000Z' });
    expect((await extend(first.jti, { ttlSeconds: 600, reason: 'again' })).status).toBe(409);
    const audit = await hub.api<{ events: { requestId: string; data: Record<string, unknown> }[] }>('GET', '/api/v1/audit?type=request.submitted&limit=1000', ADMIN_TOKEN);
    expect(audit.body.events.find((event) => event.requestId === extended.body.id)?.data.extends).toBe(first.jti);

    await hub.stop();
    clock.set('2026-12-22T10:50:00.000Z');
    await hub.start();

    // The second extension waits for an approver; the CLI blocks until then and prints the new grant.
    const doraClient = await hub.connect(dora);
    const created = collect<GreenlightRequest>((listener) => doraClient.on('request:created', listener));
    const second = extended.body.grant!;
    const waiting = startCli(['grant', 'extend', second.jti, '--ttl', '1h', '--reason', 'still running', '--wait'], { GREENLIGHT_HUB: hub.url, GREENLIGHT_TOKEN: alice.token });
    const asked = await created.next((request) => request.extends === second.jti);
    expect(asked.status).toBe('pending');
    await doraClient.decide({ requestId: asked.id, decision: 'approve' });
    const result = await waiting.exited;
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^eyJ/);
    const third = (await get(asked.id)).grant!;
    expect(third).toMatchObject({ notBefore: '2026-12-22T11:00:00.000Z', expiresAt: '2026-12-22T12:00:00.000Z' });

    // Two hours added so far; two more would pass maxTotal (3h), one more fits.
    await advance(60 * MINUTE);
    const over = await extend(third.jti, { ttlSeconds: 2 * 3600, reason: 'one more' });
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe('EXTENSION_LIMIT');
    expect(over.body.error.message).toContain('at most 1h more');
    const last = await extend(third.jti, { ttlSeconds: 3600, reason: 'one more' });
    expect(last.status).toBe(201);
    expect(last.body.status).toBe('pending');
  });

  it('of two extensions of one grant sent at once, exactly one is taken', async () => {
    clock.set('2026-12-24T09:00:00.000Z');
    const original = await approve((await submit(dbOpen({ reason: 'race', requestedTtlSeconds: 600 }))).id);
    const jti = original.grant!.jti;
    const answers = await Promise.all([extend(jti, { ttlSeconds: 600, reason: 'a' }), extend(jti, { ttlSeconds: 600, reason: 'b' })]);
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
    const mine = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true&limit=100', alice.token);
    expect(mine.body.requests.filter((request) => request.extends === jti)).toHaveLength(1);
  });

  it('revoked twice at once: one revoke stands and is audited once, the other is told it is already revoked', async () => {
    clock.set('2026-12-25T09:00:00.000Z');
    const approved = await approve((await submit(dbOpen({ reason: 'revoke race', requestedTtlSeconds: 600 }))).id);
    const jti = approved.grant!.jti;
    const answers = await Promise.all([alice, dora].map((user) => hub.api<ErrorBody>('POST', `/api/v1/grants/${jti}/revoke`, user.token)));
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    expect(answers.find((answer) => answer.status === 409)?.body.error.message).toContain('already revoked');
    const audit = await hub.api<{ events: { data: { jti?: string } }[] }>('GET', '/api/v1/audit?type=grant.revoked&limit=100', ADMIN_TOKEN);
    expect(audit.body.events.filter((event) => event.data.jti === jti)).toHaveLength(1);
  });

  it('an extension sent while the grant is revoked never outlives the revoke, however the two interleave', async () => {
    for (let round = 0; round < 12; round++) {
      clock.set(`2026-12-26T${String(round + 8).padStart(2, '0')}:00:00.000Z`);
      const approved = await approve((await submit(dbOpen({ reason: `revoke against extend ${round}`, requestedTtlSeconds: 600 }))).id);
      const jti = approved.grant!.jti;
      const calls = [() => hub.api('POST', `/api/v1/grants/${jti}/revoke`, dora.token), ...Array.from({ length: 3 }, () => () => extend(jti, { ttlSeconds: 600, reason: 'more' }))];
      // The revoke goes first, second, ... in turn.
      await Promise.all([...calls.slice(round % calls.length), ...calls.slice(0, round % calls.length)].map((call) => call()));
      const mine = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true&limit=500', alice.token);
      const extensions = mine.body.requests.filter((request) => request.extends === jti);
      expect(extensions.filter((request) => request.status === 'pending' || request.grant?.status === 'active'), `round ${round}`).toEqual([]);
    }
  });

  it('refuses to extend a revoked or an ended grant', async () => {
    clock.set('2026-12-23T09:00:00.000Z');
    const revokedOne = await approve((await submit(dbOpen({ requestedTtlSeconds: 600 }))).id);
    await hub.api('POST', `/api/v1/grants/${revokedOne.grant!.jti}/revoke`, alice.token);
    const revoked = await extend(revokedOne.grant!.jti, { ttlSeconds: 600, reason: 'more' });
    expect(revoked.status).toBe(409);
    expect(revoked.body.error.message).toMatch(/revoked/);

    const endedOne = await approve((await submit(dbOpen({ reason: 'short', requestedTtlSeconds: 600 }))).id);
    await advance(11 * MINUTE);
    const ended = await extend(endedOne.grant!.jti, { ttlSeconds: 600, reason: 'more' });
    expect(ended.status).toBe(409);
    expect(ended.body.error.message).toMatch(/ended/);
  });

  it('a grant whose request was stored before the hub refused misleading text: not extended, said plainly; its payload still verifies by hash', async () => {
    clock.set('2026-12-24T09:00:00.000Z');
    const approved = await approve((await submit(dbOpen({ requestedTtlSeconds: 600, context: { summary: 'rotate keys' } }))).id);
    // As an older hub stored it: a direction control in the summary, which the edge now refuses.
    await hub.hub.ctx.store.db.updateTable('requests').set({ context: JSON.stringify({ summary: 'rotate \u202Esyek' }) }).where('id', '=', approved.id).execute();
    await advance(6 * MINUTE);
    const refused = await extend(approved.grant!.jti, { ttlSeconds: 600, reason: 'more' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: 'CONFLICT',
      message: "This grant's request holds text this hub no longer accepts (context.summary: contains U+202E, which changes the direction of the text after it, so it would read as something other than what was sent), so it can't be extended as it stands; ask for new access instead.",
    });

    // Verifying only compares: a payload holding such text is answered by its hash, not refused as input.
    const token = (await get(approved.id)).grant?.token;
    const payload = { action: 'db-open', resource: 'orders-db', environment: approved.environment, context: { summary: 'rotate \u202Esyek' } };
    const verified = await hub.api<{ valid: boolean; reason?: string }>('POST', '/api/v1/grants/verify', null, { token, payload });
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({ valid: false, reason: 'payload_mismatch' });
    const original = await hub.api<{ valid: boolean }>('POST', '/api/v1/grants/verify', null, { token, payload: { ...payload, context: { summary: 'rotate keys' } } });
    expect(original.body.valid).toBe(true);
  });

  it('revoking a grant takes its extensions with it: an approved one\'s grant is revoked, a pending one cancelled, so access never comes back', async () => {
    clock.set('2026-12-25T09:00:00.000Z');
    const original = await approve((await submit(dbOpen({ reason: 'revoke chain', requestedTtlSeconds: 1200 }))).id);
    await advance(6 * MINUTE);
    const first = await extend(original.grant!.jti, { ttlSeconds: 600, reason: 'longer' });
    expect(first.body).toMatchObject({ status: 'approved', grant: { status: 'active', notBefore: '2026-12-25T09:20:00.000Z' } });
    await advance(10 * MINUTE);
    const second = await extend(first.body.grant!.jti, { ttlSeconds: 600, reason: 'longer still' });
    expect(second.body.status).toBe('pending');

    expect((await hub.api('POST', `/api/v1/grants/${original.grant!.jti}/revoke`, dora.token)).status).toBe(200);
    expect((await get(original.id)).grant?.status).toBe('revoked');
    expect((await get(first.body.id)).grant?.status).toBe('revoked');
    const verified = await hub.api<{ valid: boolean; reason?: string }>('POST', '/api/v1/grants/verify', null, { token: (await get(first.body.id)).grant?.token });
    expect(verified.body).toMatchObject({ valid: false, reason: 'revoked' });
    const cancelled = await get(second.body.id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelReason).toContain(`the grant it extends (${first.body.grant!.jti}) was revoked`);
    expect((await approve(second.body.id)).error.code).toBe('ALREADY_DECIDED');
    const revocations = await hub.api<{ events: { requestId: string; actor: string }[] }>('GET', '/api/v1/audit?type=grant.revoked&limit=100', ADMIN_TOKEN);
    expect(revocations.body.events.filter((event) => [original.id, first.body.id].includes(event.requestId)).map((event) => event.actor)).toEqual(['dora', 'dora']);
  });
});

describe.skipIf(!pg.ok)(`grant extensions on two hubs sharing one PostgreSQL database${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const clock = new ManualClock('2026-12-24T09:00:00.000Z');
  const hubA = new TestHub('postgres', { policy: POLICY, clock });
  let hubB: TestHub;
  let alice: TestUser, dora: TestUser;

  beforeAll(async () => {
    await hubA.start();
    hubB = new TestHub('postgres', { policy: POLICY, clock });
    hubB.databaseUrl = hubA.databaseUrl;
    await hubB.start();
    alice = await hubA.createUser('alice', ['requester']);
    dora = await hubA.createUser('dora', ['approver'], ['dba']);
  });
  afterAll(async () => {
    await hubB.stop().catch(() => undefined);
    await hubA.dispose();
  });

  it('of two extensions of one grant sent at once to different hubs, exactly one is taken, every time', async () => {
    for (let round = 0; round < 8; round++) {
      const submitted = await hubA.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'db-open', resource: 'orders-db', reason: `race ${round}`, requestedTtlSeconds: 600 }));
      const approved = await hubA.api<GreenlightRequest>('POST', `/api/v1/requests/${submitted.body.id}/decisions`, dora.token, { decision: 'approve' });
      const jti = approved.body.grant!.jti;
      const answers = await Promise.all(
        [hubA, hubB].map((hub, index) => hub.api<GreenlightRequest>('POST', `/api/v1/grants/${jti}/extend`, alice.token, { ttlSeconds: 600, reason: `from hub ${index}` })),
      );
      expect(answers.map((answer) => answer.status).sort(), `round ${round}`).toEqual([201, 409]);
      const mine = await hubA.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true&limit=100', alice.token);
      expect(mine.body.requests.filter((request) => request.extends === jti)).toHaveLength(1);
    }
  });
});

// An extension is a new request: the policy in force when it is asked for judges it, and no
// extension of a break-glass use is approved without an approver.
describe('what an extension is judged by', () => {
  const RULES = (extensions: string) => `
rules:
  - name: prod-db
    match: { action: db-open }
    approvers: [dba]
    grantTtl: 2h
${extensions}
    breakGlass: { groups: [oncall], maxTtl: 15m, reviewers: [security] }
`;
  const clock = new ManualClock('2026-12-22T09:00:00.000Z');
  const hub = new TestHub('sqlite', { policy: RULES('    extensions: { autoApprove: 1 }'), clock });
  let alice: TestUser, dave: TestUser, dora: TestUser, sue: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    dora = await hub.createUser('dora', ['approver'], ['dba']);
    sue = await hub.createUser('sue', ['approver'], ['security']);
  });
  afterAll(() => hub.dispose());

  const dbOpen = (overrides: Record<string, unknown> = {}) => deployRequest({ action: 'db-open', resource: 'orders-db', ...overrides });
  const submit = async (user: TestUser, body: unknown) => (await hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, body)).body;
  const approve = async (id: string) => (await hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, dora.token, { decision: 'approve' })).body;
  const extend = (user: TestUser, jti: string, body: unknown) => hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/grants/${jti}/extend`, user.token, body);
  const reloadPolicy = (text: string) => {
    writeFileSync(hub.policyPath!, text);
    // As SIGHUP does; the file watcher may have read it already.
    hub.hub.ctx.policy.reload();
  };

  it('an ordinary grant under this rule gets its first extension at once', async () => {
    const approved = await approve((await submit(alice, dbOpen({ requestedTtlSeconds: 600 }))).id);
    const extended = await extend(alice, approved.grant!.jti, { ttlSeconds: 600, reason: 'migration runs long' });
    expect(extended.status).toBe(201);
    expect(extended.body).toMatchObject({ status: 'approved', decidedBy: 'policy:prod-db:extensions' });
  });

  it('a break-glass grant, even one whose use was not ratified, is extended only if an approver approves', async () => {
    const used = await submit(dave, dbOpen({ reason: 'database is down, customers cannot pay', breakGlass: { incident: 'INC-7' } }));
    expect(used.grant).toMatchObject({ notBefore: '2026-12-22T09:00:00.000Z', expiresAt: '2026-12-22T09:15:00.000Z' });
    const reviewed = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${used.id}/review`, sue.token, { outcome: 'unratified', comment: 'not an incident after all' });
    expect(reviewed.body.breakGlass?.review).toBe('unratified');

    const asked = await extend(dave, used.grant!.jti, { ttlSeconds: 2 * 3600, reason: 'still fixing the database' });
    expect(asked.status).toBe(201);
    expect(asked.body).toMatchObject({ status: 'pending', extends: used.grant!.jti });
    expect(asked.body.grant ?? null).toBeNull();
    const approved = await approve(asked.body.id);
    expect(approved.grant).toMatchObject({ notBefore: '2026-12-22T09:15:00.000Z', expiresAt: '2026-12-22T11:15:00.000Z' });
  });

  it('a rule whose extensions.maxTotal is 0s allows none, and says so', async () => {
    const approved = await approve((await submit(alice, dbOpen({ reason: 'no extensions here', requestedTtlSeconds: 600 }))).id);
    reloadPolicy(RULES('    extensions: { maxTotal: 0s }'));
    try {
      const refused = await extend(alice, approved.grant!.jti, { ttlSeconds: 600, reason: 'migration runs long' });
      expect(refused.status).toBe(422);
      expect(refused.body.error).toEqual({ code: 'EXTENSION_LIMIT', message: 'Rule "prod-db" allows no extensions (its extensions.maxTotal is 0s). Ask for new access instead.' });
    } finally {
      reloadPolicy(RULES('    extensions: { autoApprove: 1 }'));
    }
  });

  it('a rule that no longer approves extensions at once sends them to the approvers, and its window applies', async () => {
    const approved = await approve((await submit(alice, dbOpen({ reason: 'before the policy change', requestedTtlSeconds: 3600 }))).id);
    reloadPolicy(RULES('    extendBefore: 10m'));
    try {
      clock.advance(48 * 60_000);
      const early = await extend(alice, approved.grant!.jti, { ttlSeconds: 600, reason: 'migration runs long' });
      expect(early.status).toBe(409);
      expect(early.body.error.message).toContain('only in its last 10m');
      clock.advance(3 * 60_000);
      const asked = await extend(alice, approved.grant!.jti, { ttlSeconds: 600, reason: 'migration runs long' });
      expect(asked.status).toBe(201);
      expect(asked.body).toMatchObject({ status: 'pending', rule: { name: 'prod-db', extendBeforeSeconds: 600 } });
      expect(asked.body.rule.extensions).toBeUndefined();
    } finally {
      reloadPolicy(RULES('    extensions: { autoApprove: 1 }'));
    }
  });
});

// An extension's access starts where the grant ends, and is arranged no further ahead than any
// request's: when the rule's maxScheduleAhead is shorter than its extendBefore, it says when.
describe('an extension of a grant that ends further ahead than maxScheduleAhead', () => {
  const clock = new ManualClock('2026-12-22T09:00:00.000Z');
  const hub = new TestHub('sqlite', {
    clock,
    policy: `
rules:
  - name: long-jobs
    match: { action: batch-run }
    approvers: [dba]
    grantTtl: 2d
    maxScheduleAhead: 1d
    extendBefore: 3d
    extensions: { autoApprove: 1 }
`,
  });
  let alice: TestUser, dora: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    dora = await hub.createUser('dora', ['approver'], ['dba']);
  });
  afterAll(() => hub.dispose());

  it('is refused as an extension asked too early, naming when it can be asked, not a start the requester never sent', async () => {
    const submitted = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ action: 'batch-run', resource: 'ledger', notBefore: '2026-12-23T09:00:00Z' }));
    const approved = (await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${submitted.body.id}/decisions`, dora.token, { decision: 'approve' })).body;
    expect(approved.grant).toMatchObject({ notBefore: '2026-12-23T09:00:00.000Z', expiresAt: '2026-12-25T09:00:00.000Z' });

    // Inside the grant's last 3d (extendBefore), but its end is two days off: more than 1d ahead.
    const early = await hub.api<ErrorBody>('POST', `/api/v1/grants/${approved.grant!.jti}/extend`, alice.token, { ttlSeconds: 3600, reason: 'the batch runs long' });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('CONFLICT');
    expect(early.body.error.message).toContain('extended only in its last 1d');
    expect(early.body.error.message).toContain('maxScheduleAhead');
    expect(early.body.error.message).toContain('from 2026-12-24T09:00:00.000Z');
    expect(early.body.error.message).not.toContain('notBefore');

    clock.set('2026-12-24T09:00:00.000Z');
    const extended = await hub.api<GreenlightRequest>('POST', `/api/v1/grants/${approved.grant!.jti}/extend`, alice.token, { ttlSeconds: 3600, reason: 'the batch runs long' });
    expect(extended.status).toBe(201);
    expect(extended.body.grant).toMatchObject({ notBefore: '2026-12-25T09:00:00.000Z', expiresAt: '2026-12-25T10:00:00.000Z' });
  });
});
