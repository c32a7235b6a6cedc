import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import path from 'node:path';
import { io } from 'socket.io-client';
import pgClient from 'pg';
import type { GreenlightRequest, SyncResult } from '../protocol/index.js';
import { ADMIN_TOKEN, collect, deployRequest, TestHub, type DatabaseKind, type TestUser } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod-deploys
    match: { action: deploy, environment: production }
    approvers: [sre]
    minApprovals: 2
    grantTtl: 15m
  - name: db-access
    match: { action: db-open, resource: "payments-*" }
    approvers: [sre]
  - name: staging
    match: { action: deploy, environment: staging }
    autoApprove: true
`;

type ErrorBody = { error: { code: string; message: string } };

describe.each<DatabaseKind>(['sqlite', 'postgres'])('hub request lifecycle on %s', (kind) => {
  const skip = kind === 'postgres' && !pg.ok;
  const hub = new TestHub(kind, { policy: POLICY });
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, erin: TestUser;

  beforeAll(async () => {
    if (skip) return;
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
    dave = await hub.createUser('dave', ['approver'], ['sre']);
    erin = await hub.createUser('erin', ['approver'], ['dba']);
  });
  afterAll(() => hub.dispose());

  const submit = (user: TestUser, body: unknown = deployRequest()) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', user.token, body);
  const decide = (user: TestUser, id: string, decision: 'approve' | 'deny', comment?: string) =>
    hub.api<GreenlightRequest & ErrorBody>('POST', `/api/v1/requests/${id}/decisions`, user.token, { decision, comment });

  it.skipIf(skip)(`approves with a quorum of two and issues a grant only the requester sees ${skip ? `(skipped: ${pg.ok ? '' : pg.reason})` : ''}`, async () => {
    const created = await submit(alice);
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('pending');
    expect(created.body.rule.name).toBe('prod-deploys');

    const first = await decide(bob, created.body.id, 'approve', 'looks fine');
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('pending');
    expect(first.body.approvals).toBe(1);

    const second = await decide(carol, created.body.id, 'approve');
    expect(second.body.status).toBe('approved');
    expect(second.body.decidedBy).toBe('carol');
    expect(second.body.grant?.status).toBe('active');
    expect(second.body.grant?.token).toBeUndefined();

    const asRequester = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}`, alice.token);
    expect(asRequester.body.grant?.token).toMatch(/^ey/);
    expect(asRequester.body.timeline.map((entry) => entry.type)).toEqual(['request.submitted', 'request.vote', 'request.approved', 'grant.issued']);
  });

  it.skipIf(skip)('a single deny denies, with its comment', async () => {
    const created = await submit(alice);
    const denied = await decide(dave, created.body.id, 'deny', 'not during the freeze');
    expect(denied.body.status).toBe('denied');
    expect(denied.body.decisions).toEqual([expect.objectContaining({ approver: 'dave', decision: 'deny', comment: 'not during the freeze' })]);
    const again = await decide(bob, created.body.id, 'approve');
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('ALREADY_DECIDED');
    // Someone with no part in it learns nothing of how, or by whom, it was decided.
    for (const attempt of [await decide(erin, created.body.id, 'approve'), await hub.api<ErrorBody>('POST', `/api/v1/requests/${created.body.id}/claim`, erin.token)]) {
      expect(attempt.body.error.code).toBe('NOT_ELIGIBLE');
      expect(attempt.body.error.message).not.toContain('dave');
      expect(attempt.body.error.message).not.toContain('denied');
    }
  });

  it.skipIf(skip)('refuses self-approval, even for an admin', async () => {
    const bobs = await submit(bob);
    const own = await decide(bob, bobs.body.id, 'approve');
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('SELF_APPROVAL');
    const adminUser = { name: 'admin', token: ADMIN_TOKEN };
    const adminRequest = await submit(adminUser);
    const adminOwn = await decide(adminUser, adminRequest.body.id, 'approve');
    expect(adminOwn.body.error.code).toBe('SELF_APPROVAL');
  });

  it.skipIf(skip)('refuses approvers outside the rule and repeated votes', async () => {
    const created = await submit(alice);
    const outsider = await decide(erin, created.body.id, 'approve');
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe('NOT_ELIGIBLE');
    await decide(bob, created.body.id, 'approve');
    const twice = await decide(bob, created.body.id, 'approve');
    expect(twice.status).toBe(409);
  });

  it.skipIf(skip)('of many concurrent deciders on a one-approval rule exactly one wins', async () => {
    const created = await submit(alice, deployRequest({ action: 'db-open', resource: 'payments-db', environment: 'production' }));
    expect(created.body.rule.name).toBe('db-access');
    const results = await Promise.all([bob, carol, dave, bob, carol, dave].map((user, i) => decide(user, created.body.id, i % 2 ? 'deny' : 'approve')));
    const winners = results.filter((result) => result.status === 200);
    expect(winners).toHaveLength(1);
    expect(results.filter((result) => result.status === 409).every((result) => result.body.error.code === 'ALREADY_DECIDED')).toBe(true);
    const final = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}`, alice.token);
    expect(final.body.decisions).toHaveLength(1);
    expect(final.body.status).toBe(winners[0]?.body.status);
  });

  it.skipIf(skip)('returns the first request for a repeated idempotency key, even when sent concurrently', async () => {
    const body = deployRequest({ idempotencyKey: `pipeline-run-${kind}-42` });
    const [a, b, c] = await Promise.all([submit(alice, body), submit(alice, body), submit(alice, body)]);
    const ids = new Set([a.body.id, b.body.id, c.body.id]);
    expect(ids.size).toBe(1);
    expect([a.status, b.status, c.status].sort()).toEqual([200, 200, 201]);
    const page = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?mine=true&limit=500', alice.token);
    expect(page.body.requests.filter((r) => r.id === a.body.id)).toHaveLength(1);
  });

  it.skipIf(skip)('pages the request list by its nextCursor, and refuses a cursor it never gave rather than answering an empty page', async () => {
    for (let i = 0; i < 3; i++) await submit(alice);
    type Page = { requests: GreenlightRequest[]; nextCursor: string | null } & ErrorBody;
    const first = await hub.api<Page>('GET', '/api/v1/requests?mine=true&limit=2', alice.token);
    expect(first.body.requests).toHaveLength(2);
    const second = await hub.api<Page>('GET', `/api/v1/requests?mine=true&limit=2&cursor=${first.body.nextCursor}`, alice.token);
    expect(second.status).toBe(200);
    expect(second.body.requests[0]?.id).not.toBe(first.body.requests[1]?.id);
    const madeUp = await hub.api<Page>('GET', '/api/v1/requests?mine=true&cursor=abc', alice.token);
    expect(madeUp.status).toBe(400);
    expect(madeUp.body.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('pass the nextCursor of the page before') });
    // A limit is written in digits: what Number() would also read is refused, not guessed at.
    for (const route of ['/api/v1/requests?limit=0x10', '/api/v1/requests?limit=5e1', '/api/v1/requests?limit=', '/api/v1/audit?limit=1e2']) {
      const refused = await hub.api<Page>('GET', route, ADMIN_TOKEN);
      expect(refused.status, route).toBe(400);
      expect(refused.body.error.message, route).toMatch(/limit/);
    }
    expect((await hub.api<Page>('GET', '/api/v1/requests?mine=true&limit=16', alice.token)).status).toBe(200);
  });

  it.skipIf(skip)('lets the requester, and only the requester, cancel while pending', async () => {
    const created = await submit(alice);
    const byOther = await hub.api<ErrorBody>('POST', `/api/v1/requests/${created.body.id}/cancel`, bob.token);
    expect(byOther.status).toBe(403);
    const cancelled = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${created.body.id}/cancel`, alice.token);
    expect(cancelled.body.status).toBe('cancelled');
    const late = await decide(bob, created.body.id, 'approve');
    expect(late.body.error.code).toBe('ALREADY_DECIDED');
  });

  it.skipIf(skip)('auto-approves what the policy says, and refuses what no rule covers', async () => {
    const staging = await submit(alice, deployRequest({ environment: 'staging' }));
    expect(staging.status).toBe(201);
    expect(staging.body.status).toBe('approved');
    expect(staging.body.grant?.token).toBeTruthy();
    const unmatched = await submit(alice, deployRequest({ action: 'drop-table' }));
    expect(unmatched.status).toBe(422);
    expect(unmatched.body.error.code).toBe('NO_POLICY');
    expect(unmatched.body.error.message).toContain('drop-table');
  });

  it.skipIf(skip)('pushes request:created to eligible approvers only, and updates to the requester', async () => {
    const bobClient = await hub.connect(bob);
    const erinClient = await hub.connect(erin);
    const aliceClient = await hub.connect(alice);
    const bobCreated = collect<GreenlightRequest>((l) => bobClient.on('request:created', l));
    const erinCreated = collect<GreenlightRequest>((l) => erinClient.on('request:created', l));
    const aliceCreated = collect<GreenlightRequest>((l) => aliceClient.on('request:created', l));
    const aliceUpdated = collect<GreenlightRequest>((l) => aliceClient.on('request:updated', l));

    const submitted = await aliceClient.submit(deployRequest());
    const seen = await bobCreated.next((r) => r.id === submitted.id);
    // The requester's own sockets hear of the new request as an update, never as request:created.
    expect((await aliceUpdated.next((r) => r.id === submitted.id)).status).toBe('pending');
    expect(seen.reason).toBe('hotfix for INC-4412');
    expect(seen.context.diff).toContain('+new');

    await bobClient.decide({ requestId: submitted.id, decision: 'approve' });
    const update = await aliceUpdated.next((r) => r.id === submitted.id && r.approvals === 1);
    expect(update.status).toBe('pending');
    // Give any stray broadcast the same chance to arrive as the update did.
    await aliceClient.sync();
    expect(erinCreated.items.some((r) => r.id === submitted.id)).toBe(false);
    expect(aliceCreated.items).toHaveLength(0);

    // Bob voted and the request needs someone else now: it waits on him nowhere, his sync included.
    const sync: SyncResult = await bobClient.sync();
    expect(sync.inbox.some((r) => r.id === submitted.id)).toBe(false);
    const carolClient = await hub.connect(carol);
    expect((await carolClient.sync()).inbox.some((r) => r.id === submitted.id)).toBe(true);
    const aliceSync = await aliceClient.sync();
    expect(aliceSync.mine.some((r) => r.id === submitted.id)).toBe(true);
    expect(aliceSync.inbox).toHaveLength(0);
  });

  it.skipIf(skip)('refuses unauthenticated HTTP and sockets with UNAUTHENTICATED', async () => {
    const none = await hub.api<ErrorBody>('GET', '/api/v1/requests', null);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHENTICATED');
    const wrong = await hub.api<ErrorBody>('GET', '/api/v1/requests', 'glt_not-a-real-token-at-all');
    expect(wrong.status).toBe(401);

    const socket = io(hub.url, { auth: { token: 'glt_not-a-real-token-at-all' }, forceNew: true, transports: ['websocket'] });
    const error = await new Promise<Error & { data?: { code: string } }>((resolve) => socket.on('connect_error', resolve));
    socket.close();
    expect(error.data?.code).toBe('UNAUTHENTICATED');

    const audit = await hub.api<{ events: { type: string }[] }>('GET', '/api/v1/audit?type=auth.failed', ADMIN_TOKEN);
    // The wrong HTTP token and the wrong socket token are both on record.
    expect(audit.body.events.length).toBeGreaterThanOrEqual(2);
  });

  it.skipIf(skip)('answers bad input with a clear INVALID_INPUT and writes nothing', async () => {
    const before = await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN);
    const cases: unknown[] = [
      '{not json',
      { ...deployRequest(), action: 42 },
      { action: 'deploy' },
      { ...deployRequest(), surprise: true },
      { ...deployRequest(), reason: 'x'.repeat(5000) },
      { ...deployRequest(), context: { links: [{ title: 'x', url: 'javascript:alert(1)' }] } },
      { ...deployRequest(), requestedTtlSeconds: -5 },
      [],
      null,
    ];
    for (const body of cases) {
      const result = await submit(alice, body);
      expect(result.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(result.body.error.code).toBe('INVALID_INPUT');
      expect(result.body.error.message.length).toBeGreaterThan(10);
    }
    const wrongField = await submit(alice, { ...deployRequest(), surprise: true });
    expect(wrongField.body.error.message).toContain('surprise');
    // Text that can't be stored as written: refused, naming the field, rather than stored changed (which
    // would break the audit chain's hash) or failing inside the database.
    const unstorable: [Record<string, unknown>, string][] = [
      [{ ...deployRequest(), resource: 'api\ud800' }, 'resource'],
      [{ ...deployRequest(), reason: 'a\u0000b' }, 'reason'],
      // A key is named escaped, so the broken character does not travel on in the error.
      [{ ...deployRequest(), context: { fields: { ['k\udc00']: 'v' } } }, 'context.fields."k\\udc00"'],
    ];
    for (const [body, field] of unstorable) {
      const result = await submit(alice, body);
      expect(result.status).toBe(400);
      expect(result.body.error.code).toBe('INVALID_INPUT');
      expect(result.body.error.message).toContain(`${field}`);
      expect(result.body.error.message).toContain('NUL character or a broken UTF-16 surrogate');
    }
    const after = await hub.api<{ events: unknown[] }>('GET', '/api/v1/audit?limit=1000', ADMIN_TOKEN);
    expect(after.body.events.length).toBe(before.body.events.length);
  });

  it.skipIf(skip)('lists a request only to its own approvers, not to groups whose names merely look alike', async () => {
    const created = await submit(alice);
    const lookalikes = [await hub.createUser(`upper-${kind}`, ['approver'], ['SRE']), await hub.createUser(`wild-${kind}`, ['approver'], ['s_e'])];
    for (const user of lookalikes) {
      const listed = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?limit=500', user.token);
      expect(listed.status).toBe(200);
      expect(listed.body.requests.map((request) => request.id), user.name).not.toContain(created.body.id);
      const client = await hub.connect(user);
      expect((await client.sync()).inbox.map((request) => request.id), user.name).not.toContain(created.body.id);
    }
    const bobs = await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?limit=500', bob.token);
    expect(bobs.body.requests.map((request) => request.id)).toContain(created.body.id);
  });

  it.skipIf(skip)('refuses a decision comment with a NUL character, and the chain still verifies', async () => {
    const created = await submit(alice);
    const comment = await hub.api<ErrorBody>('POST', `/api/v1/requests/${created.body.id}/decisions`, bob.token, { decision: 'approve', comment: 'ok\u0000' });
    expect(comment.status).toBe(400);
    expect(comment.body.error.code).toBe('INVALID_INPUT');
    expect(comment.body.error.message).toContain('comment');
    expect((await decide(bob, created.body.id, 'approve', 'ok')).status).toBe(200);
    expect((await hub.api<{ ok: boolean }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN)).body.ok).toBe(true);
  });

  it.skipIf(skip)('accepts a 1 MB diff and refuses a 50 MB one with 413', async () => {
    const mb = '+'.repeat(1024 * 1024 - 1) + '\n';
    const ok = await submit(alice, deployRequest({ context: { diff: mb } }));
    expect(ok.status).toBe(201);
    const huge = await submit(alice, deployRequest({ context: { diff: 'x'.repeat(50 * 1024 * 1024) } }));
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it.skipIf(skip)('answers unknown requests and endpoints with NOT_FOUND', async () => {
    const missing = await hub.api<ErrorBody>('GET', '/api/v1/requests/req_doesnotexist', bob.token);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const endpoint = await hub.api<ErrorBody>('GET', '/api/v1/nothing-here', bob.token);
    expect(endpoint.body.error.code).toBe('NOT_FOUND');
  });

  it.skipIf(skip)('disabling a user stops their token at once and disconnects their sockets', async () => {
    const frank = await hub.createUser('frank', ['approver'], ['sre']);
    const client = await hub.connect(frank);
    const states = collect<string>((l) => client.onState(l));
    // Used once before, so the hub has already seen (and may remember) this token.
    expect((await hub.api('GET', '/api/v1/requests', frank.token)).status).toBe(200);
    const nonAdmin = await hub.api<ErrorBody>('POST', '/api/v1/users/frank/disable', bob.token);
    expect(nonAdmin.status).toBe(403);
    const disabled = await hub.api<{ disabled: boolean }>('POST', '/api/v1/users/frank/disable', ADMIN_TOKEN);
    expect(disabled.body.disabled).toBe(true);
    await states.next((state) => state === 'unauthorized');
    const after = await hub.api<ErrorBody>('GET', '/api/v1/requests', frank.token);
    expect(after.status).toBe(401);
    const users = await hub.api<{ users: { name: string; disabled: boolean }[] }>('GET', '/api/v1/users', ADMIN_TOKEN);
    expect(users.body.users.find((u) => u.name === 'frank')?.disabled).toBe(true);
  });

  it.skipIf(skip)('long-poll wait returns as soon as the request is decided', async () => {
    const created = await submit(alice, deployRequest({ action: 'db-open', resource: 'payments-db' }));
    const waiting = hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}/wait?timeoutSeconds=20`, alice.token);
    await decide(bob, created.body.id, 'approve');
    const result = await waiting;
    expect(result.body.status).toBe('approved');
    expect(result.body.grant?.token).toBeTruthy();
    const stillPending = await submit(alice, deployRequest({ action: 'db-open', resource: 'payments-db' }));
    const timedOut = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${stillPending.body.id}/wait?timeoutSeconds=1`, alice.token);
    expect(timedOut.body.status).toBe('pending');
  });

  it.skipIf(skip)('shuts down promptly while a pipeline is long-polling', async () => {
    const created = await submit(alice, deployRequest({ action: 'db-open', resource: 'payments-db' }));
    const waiting = hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}/wait?timeoutSeconds=300`, alice.token);
    while (!/^greenlight_long_polls 1$/m.test((await hub.api<string>('GET', '/metrics', null)).body)) await new Promise((resolve) => setTimeout(resolve, 20));
    await hub.stop();
    // The wait is answered (still pending) rather than holding the shutdown for five minutes.
    expect((await waiting).body.status).toBe('pending');
    await hub.start();
  });

  it.skipIf(skip)('keeps everything across a restart, and the audit chain verifies', async () => {
    const created = await submit(alice);
    await decide(bob, created.body.id, 'approve');
    await hub.stop();
    await hub.start();
    const after = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${created.body.id}`, alice.token);
    expect(after.body.approvals).toBe(1);
    const finished = await decide(carol, created.body.id, 'approve');
    expect(finished.body.status).toBe('approved');
    const verify = await hub.api<{ ok: boolean; events: number }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.events).toBeGreaterThan(20);
  });

  it.skipIf(skip)('filters the audit log by time and pages it, and refuses dates and cursors it could not honour', async () => {
    const created = await submit(alice);
    const at = Date.parse(created.body.createdAt);
    const iso = (ms: number) => new Date(ms).toISOString();
    const page = (query: string) => hub.api<{ events: { requestId: string | null; seq: number }[]; nextCursor: string | null } & ErrorBody>('GET', `/api/v1/audit?${query}`, ADMIN_TOKEN);
    const around = await page(`from=${iso(at - 1000)}&to=${iso(at + 1000)}&type=request.submitted`);
    expect(around.body.events.map((event) => event.requestId)).toContain(created.body.id);
    const before = await page(`to=${iso(at - 60_000)}&type=request.submitted`);
    expect(before.body.events.map((event) => event.requestId)).not.toContain(created.body.id);
    const first = await page('limit=2');
    const second = await page(`limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.events[0]?.seq).toBeLessThan(first.body.events[1]?.seq ?? 0);

    for (const query of ['from=%2B275760-09-13T00:00:00.000Z', 'to=not-a-date', 'cursor=1e999', 'cursor=-5', 'cursor=abc']) {
      const refused = await page(query);
      expect(refused.status, query).toBe(400);
      expect(refused.body.error.code).toBe('INVALID_INPUT');
    }
    expect((await page('from=%2B275760-09-13T00:00:00.000Z')).body.error.message).toContain('between 1970 and 9999');
  });

  it.skipIf(skip)('audit verify names the first event edited directly in the database', async () => {
    await hub.stop();
    if (kind === 'sqlite') {
      const db = new BetterSqlite3(path.join(hub.dataDir, 'greenlight.db'));
      db.prepare("update audit_events set actor = 'mallory' where seq = 5").run();
      db.close();
    } else {
      const client = new pgClient.Client({ connectionString: hub.databaseUrl });
      await client.connect();
      await client.query("update audit_events set actor = 'mallory' where seq = 5");
      await client.end();
    }
    await hub.start();
    const verify = await hub.api<{ ok: boolean; brokenAt: number; problem: string }>('GET', '/api/v1/audit/verify', ADMIN_TOKEN);
    expect(verify.body.ok).toBe(false);
    expect(verify.body.brokenAt).toBe(5);
    expect(verify.body.problem).toContain('modified');
  });
});
