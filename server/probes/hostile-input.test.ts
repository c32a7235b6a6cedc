import { sql } from 'kysely';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import { capturedLog } from '../test-support/captured-log.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type TestUser } from '../test-support/hub-fixture.js';
import { isWireError, type ErrorBody } from '../test-support/http.js';

/**
 * The outside review's probe: bad and hostile input on every route and socket event. Each refusal
 * must come with its stable code and a message, never a 500, and leave nothing behind.
 */

const POLICY = `
rules:
  - name: deploy-prod
    match: { action: deploy }
    approvers: [sre]
    grantTtl: 1h
    expireAfter: 2h
    extensions: { autoApprove: 1, maxTotal: 3h }
    breakGlass: { groups: [oncall], maxTtl: 1h, cooldown: 4h, reviewers: [security] }
`;

const MINUTE = 60_000;
const REASON = 'database is down, customers cannot pay';

type Answer = { status: number; body: unknown };

describe('hostile input: every refusal has its code, nothing half-written, nothing allowed that policy did not', () => {
  const clock = new ManualClock('2026-12-22T09:00:00.000Z');
  const log = capturedLog('error');
  const hub = new TestHub('sqlite', { policy: POLICY, clock, logger: log.logger });
  let alice: TestUser, bob: TestUser, carol: TestUser, dana: TestUser, dave: TestUser, sue: TestUser;

  const api = (method: string, route: string, token: string | null, body?: unknown) => hub.api(method, route, token, body);
  /** A raw call: any method, headers and body text as given. */
  const raw = async (method: string, route: string, init: { token?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> => {
    const response = await fetch(hub.url + route, {
      method,
      headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...init.headers },
      body: init.body,
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text, so a failing assertion shows it
    }
    return { status: response.status, body };
  };

  /** Row counts of every table: what a refused call must leave exactly as it was. */
  const fingerprint = async (): Promise<Record<string, number>> => {
    const db = hub.hub.ctx.store.db;
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`.execute(db);
    const counts: Record<string, number> = {};
    for (const { name } of tables.rows) {
      const row = await sql<{ n: number }>`select count(*) as n from ${sql.table(name)}`.execute(db);
      counts[name] = Number(row.rows[0]?.n ?? 0);
    }
    return counts;
  };

  /** Runs `probe`, expecting the hub's error shape with `status` and `code`, and every table as it was. */
  const refusedUnchanged = async (probe: () => Promise<Answer>, status: number, code: string) => {
    const before = await fingerprint();
    const answer = await probe();
    expect(answer.body, JSON.stringify(answer.body)).toSatisfy(isWireError);
    expect({ status: answer.status, code: (answer.body as ErrorBody).error.code }).toEqual({ status, code });
    expect(await fingerprint()).toEqual(before);
    return (answer.body as ErrorBody).error.message;
  };

  const submit = async (user: TestUser, overrides: Record<string, unknown> = {}) => {
    const created = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', user.token, deployRequest(overrides));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body;
  };
  const decide = (user: TestUser, id: string, body: unknown) => api('POST', `/api/v1/requests/${id}/decisions`, user.token, body);

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['requester', 'approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['sre']);
    dana = await hub.createUser('dana', ['requester', 'approver'], ['reviewers-elsewhere']);
    dave = await hub.createUser('dave', ['requester'], ['oncall']);
    sue = await hub.createUser('sue', ['approver'], ['security']);
  });
  afterAll(() => hub.dispose());

  afterAll(() => {
    // Nothing any probe sent reached the "unexpected error" path.
    expect(log.lines().filter((line) => line.level >= 50).map((line) => line.msg)).toEqual([]);
  });

  describe('bodies that are not what any route takes', () => {
    const BODY_ROUTES: [string, string, () => string][] = [
      ['POST', '/api/v1/requests', () => alice.token],
      ['POST', '/api/v1/requests/req_000000000000/decisions', () => bob.token],
      ['POST', '/api/v1/requests/req_000000000000/review', () => sue.token],
      ['POST', '/api/v1/grants/verify', () => ''],
      ['POST', '/api/v1/grants/redeem', () => ''],
      ['POST', '/api/v1/grants/abc/extend', () => alice.token],
      ['POST', '/api/v1/delegations', () => bob.token],
      ['POST', '/api/v1/tokens', () => alice.token],
      ['POST', '/api/v1/users', () => ADMIN_TOKEN],
      ['PATCH', '/api/v1/users/alice', () => ADMIN_TOKEN],
    ];

    for (const [method, route, token] of BODY_ROUTES) {
      it(`${method} ${route}: JSON that is not an object (null, an array, a number, a string, true) is INVALID_INPUT`, async () => {
        for (const body of ['null', '[]', '[{}]', '42', '"text"', 'true', '{}']) {
          await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'application/json' }, body }), 400, 'INVALID_INPUT');
        }
      });

      it(`${method} ${route}: no body, an empty one, or one in another media type is INVALID_INPUT`, async () => {
        await refusedUnchanged(() => raw(method, route, { token: token() }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'application/json' }, body: '' }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'text/plain' }, body: '{"a":1}' }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'application/json; charset=latin1' }, body: '{}' }), 400, 'INVALID_INPUT');
      });
    }

    it('JSON nested past the limit, and prototype keys, on a request', async () => {
      await refusedUnchanged(() => raw('POST', '/api/v1/requests', { token: alice.token, headers: { 'content-type': 'application/json' }, body: '['.repeat(100_000) }), 400, 'JSON_TOO_DEEP');
      await refusedUnchanged(
        () => raw('POST', '/api/v1/requests', { token: alice.token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(deployRequest()).replace('{', '{"__proto__":{"admin":true},') }),
        400,
        'INVALID_INPUT',
      );
      await refusedUnchanged(() => raw('POST', '/api/v1/requests', { token: alice.token, headers: { 'content-type': 'application/json' }, body: '{"action": "deploy",' }), 400, 'INVALID_INPUT');
    });

    it('a body over the limit is PAYLOAD_TOO_LARGE, and a huge grant body is refused before it is read', async () => {
      await refusedUnchanged(() => api('POST', '/api/v1/requests', alice.token, deployRequest({ reason: 'x'.repeat(9 * 1024 * 1024) })), 413, 'PAYLOAD_TOO_LARGE');
      await refusedUnchanged(() => api('POST', '/api/v1/grants/verify', null, { token: 'x'.repeat(300 * 1024) }), 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('submitting a request', () => {
    const probe = (overrides: Record<string, unknown>) => () => api('POST', '/api/v1/requests', alice.token, deployRequest(overrides));

    it('fields of the wrong type, missing or unknown', async () => {
      for (const overrides of [
        { action: 42 },
        { action: ['deploy'] },
        { action: { $ne: null } },
        { action: undefined },
        { resource: null },
        { reason: 123 },
        { reason: undefined },
        { risk: 'extreme' },
        { risk: ['high'] },
        { context: 'summary' },
        { context: { links: 'https://x.example' } },
        { context: { fields: { ticket: 4412 } } },
        { context: { unknown: true } },
        { requestedTtlSeconds: '3600' },
        { idempotencyKey: 42 },
        { breakGlass: true },
        { approvers: ['alice'] },
        { status: 'approved' },
        { requester: 'bob' },
      ]) {
        await refusedUnchanged(probe(overrides), 400, 'INVALID_INPUT');
      }
    });

    it('sizes past every limit: strings, arrays, records', async () => {
      for (const overrides of [
        { action: 'a'.repeat(129) },
        { resource: 'r'.repeat(257) },
        { environment: 'e'.repeat(10_000) },
        { reason: 'r'.repeat(2_001) },
        { idempotencyKey: 'k'.repeat(129) },
        { context: { summary: 's'.repeat(4_001) } },
        { context: { links: Array.from({ length: 10_000 }, () => ({ title: 't', url: 'https://x.example/' })) } },
        { context: { fields: Object.fromEntries(Array.from({ length: 51 }, (_, index) => [`k${index}`, 'v'])) } },
        { context: { fields: { ['k'.repeat(65)]: 'v' } } },
        { context: { links: [{ title: 't', url: `https://x.example/${'a'.repeat(3_000)}` }] } },
      ]) {
        await refusedUnchanged(probe(overrides), 400, 'INVALID_INPUT');
      }
    });

    it('control characters, invisible characters and lookalikes in names and text', async () => {
      for (const overrides of [
        { action: 'de\u0000ploy' },
        { action: 'deplоy' /* Cyrillic о */ },
        { action: '../deploy' },
        { environment: 'production/../staging' },
        { environment: 'production/' },
        { resource: 'payments\u200Bapi' },
        { resource: 'pаyments-api' /* Cyrillic а */ },
        { resource: 'payments\u2010api' /* a hyphen that is not - */ },
        { resource: 'prod\u2215db' /* a division slash */ },
        { resource: 'payments api' },
        { resource: 'a/./b' },
        { reason: '\u200B\u200B\u200B' },
        { reason: 'fine\u0000' },
        { reason: 'fine \ud800 lone surrogate' },
        { reason: 'looks fine\u202Egnp.exe' },
        { context: { links: [{ title: 'CI', url: 'javascript:alert(1)' }] } },
        { context: { links: [{ title: 'CI', url: 'https://github.com∕acme∕pr@evil.example/' }] } },
        { context: { links: [{ title: '\u200B', url: 'https://x.example/' }] } },
        { context: { fields: { '\u200B': 'hidden' } } },
      ]) {
        await refusedUnchanged(probe(overrides), 400, 'INVALID_INPUT');
      }
    });

    it('TTLs that are negative, zero, fractional, too long, or not finite', async () => {
      for (const ttl of [-1, 0, 0.5, 1.5, 7 * 24 * 3600 + 1, Number.MAX_SAFE_INTEGER + 2]) {
        await refusedUnchanged(probe({ requestedTtlSeconds: ttl }), 400, 'INVALID_INPUT');
      }
      // JSON has no NaN or Infinity; 1e400 is as near as a body gets (it parses to Infinity).
      const body = JSON.stringify(deployRequest()).replace('{', '{"requestedTtlSeconds":1e400,');
      await refusedUnchanged(() => raw('POST', '/api/v1/requests', { token: alice.token, headers: { 'content-type': 'application/json' }, body }), 400, 'INVALID_INPUT');
      await refusedUnchanged(probe({ requestedTtlSeconds: 'NaN' }), 400, 'INVALID_INPUT');
    });

    it('starts (notBefore) that are not dates, far in the past, or far in the future', async () => {
      for (const notBefore of [
        'tomorrow',
        '',
        1766394000000,
        '2026-12-22',
        '2026-12-22T10:00:00', // no offset
        '2026-02-30T10:00:00Z',
        '2026-12-22T24:00:00Z',
        '2026-12-22T10:00:00+99:00',
        '0000-01-01T00:00:00Z',
        '0000-01-01T00:00:00+00:01', // before year 0
        '1970-01-01T00:00:00Z',
        '2026-12-22T08:00:00Z', // an hour ago
        '9999-12-31T23:59:59-23:59', // past year 9999 in UTC
        '2027-12-22T09:00:00Z',
        'NaN',
      ]) {
        await refusedUnchanged(probe({ notBefore }), 400, 'INVALID_INPUT');
      }
    });

    it('an idempotency key reused with another body is IDEMPOTENCY_MISMATCH; the same body gets the first request back', async () => {
      const first = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ idempotencyKey: 'probe-key-1' }));
      expect(first.status).toBe(201);
      const again = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ idempotencyKey: 'probe-key-1' }));
      expect({ status: again.status, id: again.body.id }).toEqual({ status: 200, id: first.body.id });
      await refusedUnchanged(probe({ idempotencyKey: 'probe-key-1', reason: 'another reason' }), 409, 'IDEMPOTENCY_MISMATCH');
      await refusedUnchanged(probe({ idempotencyKey: 'probe-key-1', risk: 'low' }), 409, 'IDEMPOTENCY_MISMATCH');
      // The same key from another person is their own key: a new request, never alice's.
      const bobs = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', bob.token, deployRequest({ idempotencyKey: 'probe-key-1' }));
      expect(bobs.status).toBe(201);
      expect(bobs.body.id).not.toBe(first.body.id);
      // A key that differs only by a lookalike or by case is another key.
      const lookalike = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ idempotencyKey: 'PROBE-KEY-1' }));
      expect(lookalike.body.id).not.toBe(first.body.id);
      for (const request of [first.body, bobs.body, lookalike.body]) {
        const owner = request.requester === 'bob' ? bob : alice;
        expect((await api('POST', `/api/v1/requests/${request.id}/cancel`, owner.token, {})).status).toBe(200);
      }
    });

    it('no rule, and break-glass without the group, are refused with their codes', async () => {
      await refusedUnchanged(probe({ action: 'drop-database' }), 422, 'NO_POLICY');
      await refusedUnchanged(probe({ reason: REASON, breakGlass: { incident: 'INC-1' } }), 403, 'BREAK_GLASS_FORBIDDEN');
      await refusedUnchanged(() => api('POST', '/api/v1/requests', bob.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC-1' } })), 403, 'BREAK_GLASS_FORBIDDEN');
      // Within the group, the break-glass fields are still checked.
      await refusedUnchanged(() => api('POST', '/api/v1/requests', dave.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC-1', groups: ['oncall'] } })), 400, 'INVALID_INPUT');
      await refusedUnchanged(() => api('POST', '/api/v1/requests', dave.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC\n1' } })), 400, 'INVALID_INPUT');
      await refusedUnchanged(() => api('POST', '/api/v1/requests', dave.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC-1' }, notBefore: '2026-12-22T10:00:00Z' })), 400, 'INVALID_INPUT');
    });
  });

  describe('ids in the path', () => {
    const ID_ROUTES: [string, (id: string) => string, () => string, unknown][] = [
      ['GET', (id) => `/api/v1/requests/${id}`, () => alice.token, undefined],
      ['GET', (id) => `/api/v1/requests/${id}/wait?timeoutSeconds=0`, () => alice.token, undefined],
      ['POST', (id) => `/api/v1/requests/${id}/decisions`, () => bob.token, { decision: 'approve' }],
      ['POST', (id) => `/api/v1/requests/${id}/cancel`, () => alice.token, {}],
      ['POST', (id) => `/api/v1/requests/${id}/review`, () => sue.token, { outcome: 'ratified', comment: 'reviewed it after the incident' }],
      ['POST', (id) => `/api/v1/requests/${id}/claim`, () => bob.token, undefined],
      ['POST', (id) => `/api/v1/requests/${id}/release`, () => bob.token, undefined],
      ['POST', (id) => `/api/v1/grants/${id}/revoke`, () => alice.token, undefined],
      ['POST', (id) => `/api/v1/grants/${id}/extend`, () => alice.token, { ttlSeconds: 600, reason: 'more time please' }],
      ['DELETE', (id) => `/api/v1/delegations/${id}`, () => bob.token, undefined],
      ['DELETE', (id) => `/api/v1/tokens/${id}`, () => alice.token, undefined],
      ['POST', (id) => `/api/v1/users/${id}/disable`, () => ADMIN_TOKEN, undefined],
      ['POST', (id) => `/api/v1/users/${id}/enable`, () => ADMIN_TOKEN, undefined],
      ['POST', (id) => `/api/v1/users/${id}/sign-in-token`, () => ADMIN_TOKEN, undefined],
      ['PATCH', (id) => `/api/v1/users/${id}`, () => ADMIN_TOKEN, { groups: ['sre'] }],
      ['POST', (id) => `/api/v1/notifications/${id}/retry`, () => ADMIN_TOKEN, undefined],
    ];
    const HOSTILE_IDS = ['..', '%2e%2e', '..%2f..%2fetc%2fpasswd', '%2F', 'req_%00', 'req_%0A', '%E2%80%8B', 'req_%C3%A9', '%25', 'x'.repeat(65), 'x'.repeat(5_000), "'%20OR%201=1--", 'null', 'undefined', '__proto__', 'constructor'];

    for (const [method, route, token, body] of ID_ROUTES) {
      it(`${method} ${route(':id')}: hostile ids are refused as not found or invalid, never more`, async () => {
        for (const id of HOSTILE_IDS) {
          const before = await fingerprint();
          const answer = await api(method, route(id), token(), body);
          expect(answer.body, `${id}: ${JSON.stringify(answer.body)}`).toSatisfy(isWireError);
          expect([400, 404], `${id}: ${answer.status} ${JSON.stringify(answer.body)}`).toContain(answer.status);
          expect(await fingerprint()).toEqual(before);
        }
      });
    }
  });

  describe('query strings', () => {
    it('repeated parameters, arrays where one value is expected, and numbers past every bound', async () => {
      const queries: [string, string][] = [
        ['/api/v1/requests?status=pending&status=approved', alice.token],
        ['/api/v1/requests?status[]=pending', alice.token],
        ['/api/v1/requests?status=PENDING', alice.token],
        ['/api/v1/requests?limit=0', alice.token],
        ['/api/v1/requests?limit=-1', alice.token],
        ['/api/v1/requests?limit=1e3', alice.token],
        ['/api/v1/requests?limit=0x10', alice.token],
        ['/api/v1/requests?limit=99999999999999999999999', alice.token],
        ['/api/v1/requests?limit=1&limit=2', alice.token],
        ['/api/v1/requests?limit=', alice.token],
        ['/api/v1/requests?cursor=1', alice.token],
        ['/api/v1/requests?cursor=req_\u0000', alice.token],
        ['/api/v1/requests?mine=yes', alice.token],
        ['/api/v1/requests?unknown=1', alice.token],
        ['/api/v1/requests/req_000000000000/wait?timeoutSeconds=-1', alice.token],
        ['/api/v1/requests/req_000000000000/wait?timeoutSeconds=1e9', alice.token],
        ['/api/v1/requests/req_000000000000/wait?timeoutSeconds=301', alice.token],
        ['/api/v1/audit?limit=1001', ADMIN_TOKEN],
        ['/api/v1/audit?cursor=99999999999', ADMIN_TOKEN],
        ['/api/v1/audit?cursor=-1', ADMIN_TOKEN],
        ['/api/v1/audit?cursor=0', ADMIN_TOKEN],
        ['/api/v1/audit?from=2026-13-01', ADMIN_TOKEN],
        ['/api/v1/audit?from=0', ADMIN_TOKEN],
        ['/api/v1/audit?from=%2B275760-09-13', ADMIN_TOKEN],
        ['/api/v1/audit?to=2026-12-01T09:00:00', ADMIN_TOKEN],
        ['/api/v1/audit?type=request.nothing', ADMIN_TOKEN],
        ['/api/v1/audit?type=break_glass&type=break_glass', ADMIN_TOKEN],
        ['/api/v1/audit?format=xml', ADMIN_TOKEN],
        [`/api/v1/audit?q=${'q'.repeat(300)}`, ADMIN_TOKEN],
        ['/api/v1/audit/verify?expect=1:abc', ADMIN_TOKEN],
        [`/api/v1/audit/verify?expect=99999999999:${'0'.repeat(64)}`, ADMIN_TOKEN],
        ['/api/v1/audit/verify?expect=a&expect=b', ADMIN_TOKEN],
        ['/api/v1/reports/decisions?from=2026-12-22&to=2026-12-01', ADMIN_TOKEN],
        ['/api/v1/reports/decisions?from=2020-01-01&to=2026-01-01', ADMIN_TOKEN],
        ['/api/v1/reports/decisions?from=yesterday', ADMIN_TOKEN],
        ['/api/v1/notifications?limit=0', ADMIN_TOKEN],
        ['/api/v1/notifications?cursor=../x', ADMIN_TOKEN],
        ['/api/v1/notifications?status=lost', ADMIN_TOKEN],
        ['/api/v1/policy/explain', alice.token],
        ['/api/v1/policy/explain?action=deploy&resource=x&environment=production&as=bob', alice.token],
        ['/api/v1/policy/explain?action=deploy&action=other&resource=x&environment=production', alice.token],
        ['/api/v1/policy/explain?action=de%00ploy&resource=x&environment=production', alice.token],
        ['/api/v1/tokens?user=../admin', alice.token],
        ['/api/v1/tokens?user=a&user=b', ADMIN_TOKEN],
      ];
      for (const [route, token] of queries) {
        const before = await fingerprint();
        const answer = await api('GET', route, token);
        expect(answer.body, `${route}: ${JSON.stringify(answer.body)}`).toSatisfy(isWireError);
        expect([400, 403], `${route}: ${answer.status}`).toContain(answer.status);
        expect(await fingerprint()).toEqual(before);
      }
    });
  });

  describe("acting on what is someone else's", () => {
    it('a request: read, cancel, claim or decide by someone it does not concern', async () => {
      const mine = await submit(alice);
      await refusedUnchanged(() => api('GET', `/api/v1/requests/${mine.id}`, dave.token), 403, 'FORBIDDEN');
      await refusedUnchanged(() => api('POST', `/api/v1/requests/${mine.id}/cancel`, dave.token, {}), 403, 'FORBIDDEN');
      await refusedUnchanged(() => api('POST', `/api/v1/requests/${mine.id}/cancel`, bob.token, {}), 403, 'FORBIDDEN');
      await refusedUnchanged(() => decide(sue, mine.id, { decision: 'approve' }), 403, 'NOT_ELIGIBLE');
      await refusedUnchanged(() => decide(dave, mine.id, { decision: 'approve' }), 403, 'NOT_ELIGIBLE');
      await refusedUnchanged(() => api('POST', `/api/v1/requests/${mine.id}/claim`, sue.token), 403, 'NOT_ELIGIBLE');
      await refusedUnchanged(() => decide(bob, mine.id, { decision: 'approve', onBehalfOf: 'carol' }), 403, 'NOT_ELIGIBLE');
      await refusedUnchanged(() => decide(bob, mine.id, { decision: 'maybe' }), 400, 'INVALID_INPUT');
      await refusedUnchanged(() => decide(bob, mine.id, { decision: 'approve', comment: 'c'.repeat(2_001) }), 400, 'INVALID_INPUT');
      await refusedUnchanged(() => decide(bob, mine.id, { decision: 'approve', approver: 'carol' }), 400, 'INVALID_INPUT');
      expect((await api('POST', `/api/v1/requests/${mine.id}/cancel`, alice.token, {})).status).toBe(200);
    });

    it('its own request: nobody approves it, even as an approver', async () => {
      const own = await submit(bob);
      await refusedUnchanged(() => decide(bob, own.id, { decision: 'approve' }), 403, 'SELF_APPROVAL');
      await refusedUnchanged(() => decide(bob, own.id, { decision: 'approve', onBehalfOf: 'bob' }), 403, 'SELF_APPROVAL');
      expect((await api('POST', `/api/v1/requests/${own.id}/cancel`, bob.token, {})).status).toBe(200);
    });

    it("a delegate never decides her delegator's request, nor her own as her delegator", async () => {
      const delegated = await hub.api<{ id: string }>('POST', '/api/v1/delegations', bob.token, { to: 'dana', endsAt: '2026-12-29T09:00:00Z', reason: 'holiday' });
      expect(delegated.status).toBe(201);
      const bobs = await submit(bob);
      await refusedUnchanged(() => decide(dana, bobs.id, { decision: 'approve' }), 403, 'SELF_APPROVAL');
      await refusedUnchanged(() => decide(dana, bobs.id, { decision: 'approve', onBehalfOf: 'bob' }), 403, 'SELF_APPROVAL');
      const danas = await submit(dana);
      await refusedUnchanged(() => decide(dana, danas.id, { decision: 'approve', onBehalfOf: 'bob' }), 403, 'SELF_APPROVAL');
      await refusedUnchanged(() => decide(dana, danas.id, { decision: 'approve' }), 403, 'SELF_APPROVAL');
      // Someone who is not her delegator: she has nothing to stand in for.
      await refusedUnchanged(() => decide(dana, danas.id, { decision: 'approve', onBehalfOf: 'carol' }), 403, 'NOT_ELIGIBLE');
      // A delegation someone else's: only its parties or an admin end it.
      await refusedUnchanged(() => api('DELETE', `/api/v1/delegations/${delegated.body.id}`, carol.token), 404, 'NOT_FOUND');
      expect((await api('DELETE', `/api/v1/delegations/${delegated.body.id}`, bob.token)).status).toBe(200);
      // Ended, again: answered as it stands, and nothing more is written.
      const before = await fingerprint();
      expect(await api('DELETE', `/api/v1/delegations/${delegated.body.id}`, bob.token)).toMatchObject({ status: 200, body: { active: false, endedBy: 'bob' } });
      expect(await fingerprint()).toEqual(before);
      for (const [user, id] of [[bob, bobs.id], [dana, danas.id]] as const) expect((await api('POST', `/api/v1/requests/${id}/cancel`, user.token, {})).status).toBe(200);
    });

    it('delegations that are not well formed, or not the caller’s to give', async () => {
      const probe = (user: TestUser, body: unknown) => () => api('POST', '/api/v1/delegations', user.token, body);
      const base = { to: 'carol', endsAt: '2026-12-29T09:00:00Z', reason: 'holiday' };
      await refusedUnchanged(probe(bob, { ...base, from: 'carol', to: 'dana' }), 403, 'FORBIDDEN');
      await refusedUnchanged(probe(bob, { ...base, to: 'bob' }), 400, 'INVALID_INPUT');
      await refusedUnchanged(probe(bob, { ...base, to: 'nobody' }), 400, 'INVALID_INPUT');
      await refusedUnchanged(probe(bob, { ...base, to: 'alice' }), 400, 'INVALID_INPUT');
      // A requester approves nothing, so has nothing to hand on.
      await refusedUnchanged(probe(alice, { ...base, to: 'carol' }), 400, 'INVALID_INPUT');
      for (const window of [
        { endsAt: '2026-12-22T08:00:00Z' },
        { endsAt: '2027-06-01T00:00:00Z' },
        { endsAt: '9999-12-31T23:59:59-23:59' },
        { endsAt: 'soon' },
        { endsAt: 1767000000 },
        { startsAt: '2026-12-28T00:00:00Z', endsAt: '2026-12-27T00:00:00Z' },
        // Before 1970, or an offset that takes it out of year 0: it would be stored as "-000001-12-31T23:59:00.000Z".
        { startsAt: '0000-01-01T00:00:00+00:01', endsAt: '2026-12-29T09:00:00Z' },
        { startsAt: '0000-01-01T00:00:00Z', endsAt: '2026-12-29T09:00:00Z' },
        { startsAt: '1969-12-31T23:59:59Z', endsAt: '2026-12-29T09:00:00Z' },
        { startsAt: '2026-02-30T00:00:00Z', endsAt: '2026-12-29T09:00:00Z' },
        { rules: [] },
        { rules: ['no-such-rule'] },
        { rules: Array.from({ length: 51 }, () => 'deploy-prod') },
        { reason: '' },
      ]) {
        await refusedUnchanged(probe(bob, { ...base, ...window }), 400, 'INVALID_INPUT');
      }
    });
  });

  describe('decided and expired requests', () => {
    it('deciding, claiming, cancelling a request already decided, cancelled or expired is refused with its code', async () => {
      const approved = await submit(alice);
      expect((await decide(bob, approved.id, { decision: 'approve' })).status).toBe(200);
      const cancelled = await submit(alice);
      expect((await api('POST', `/api/v1/requests/${cancelled.id}/cancel`, alice.token, {})).status).toBe(200);
      const expiring = await submit(alice);
      clock.advance(2 * 60 * MINUTE + 1);
      await hub.hub.scheduler.runNow();
      const expired = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${expiring.id}`, alice.token);
      expect(expired.body.status).toBe('expired');

      for (const id of [approved.id, cancelled.id, expiring.id]) {
        await refusedUnchanged(() => decide(carol, id, { decision: 'approve' }), 409, 'ALREADY_DECIDED');
        await refusedUnchanged(() => decide(carol, id, { decision: 'deny' }), 409, 'ALREADY_DECIDED');
        await refusedUnchanged(() => api('POST', `/api/v1/requests/${id}/claim`, carol.token), 409, 'ALREADY_DECIDED');
        await refusedUnchanged(() => api('POST', `/api/v1/requests/${id}/cancel`, alice.token, {}), 409, 'ALREADY_DECIDED');
      }
    });
  });

  describe('grants', () => {
    it('extending a redeemed, expired, revoked or someone else’s grant is refused; verify and redeem take anything', async () => {
      const approved = await submit(alice, { requestedTtlSeconds: 1200 });
      const decided = await hub.api<GreenlightRequest>('POST', `/api/v1/requests/${approved.id}/decisions`, bob.token, { decision: 'approve' });
      const view = await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${approved.id}`, alice.token);
      const grant = view.body.grant!;
      expect(decided.status).toBe(200);
      const extend = (user: TestUser, body: unknown) => () => api('POST', `/api/v1/grants/${grant.jti}/extend`, user.token, body);

      await refusedUnchanged(extend(dave, { ttlSeconds: 600, reason: 'more time please' }), 403, 'FORBIDDEN');
      for (const body of [{ ttlSeconds: -600, reason: 'r' }, { ttlSeconds: 0, reason: 'more' }, { ttlSeconds: 1e12, reason: 'more' }, { ttlSeconds: '600', reason: 'more' }, { ttlSeconds: 600 }, { ttlSeconds: 600, reason: 'more', extra: 1 }]) {
        await refusedUnchanged(extend(alice, body), 400, 'INVALID_INPUT');
      }
      await refusedUnchanged(() => api('POST', `/api/v1/grants/${grant.jti}/revoke`, dave.token), 403, 'FORBIDDEN');

      // Redeemed: used once, it is never extended nor redeemed again.
      expect((await api('POST', '/api/v1/grants/redeem', null, { token: grant.token })).status).toBe(200);
      await refusedUnchanged(() => api('POST', '/api/v1/grants/redeem', null, { token: grant.token }), 409, 'ALREADY_REDEEMED');
      await refusedUnchanged(extend(alice, { ttlSeconds: 600, reason: 'more time please' }), 409, 'CONFLICT');

      // Expired: the same.
      const later = await submit(alice, { requestedTtlSeconds: 1200 });
      await decide(bob, later.id, { decision: 'approve' });
      const laterGrant = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${later.id}`, alice.token)).body.grant!;
      clock.advance(21 * MINUTE);
      await hub.hub.scheduler.runNow();
      await refusedUnchanged(() => api('POST', `/api/v1/grants/${laterGrant.jti}/extend`, alice.token, { ttlSeconds: 600, reason: 'more time please' }), 409, 'CONFLICT');
      await refusedUnchanged(() => api('POST', '/api/v1/grants/redeem', null, { token: laterGrant.token }), 403, 'GRANT_INVALID');
    });

    it('verify and redeem with tokens that are not grants', async () => {
      for (const token of ['', 'a', 'a.b.c', 'eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0.', '\u0000', 'x'.repeat(8_193)]) {
        const before = await fingerprint();
        const verified = await api('POST', '/api/v1/grants/verify', null, { token });
        expect([200, 400]).toContain(verified.status);
        if (verified.status === 200) expect(verified.body).toMatchObject({ valid: false });
        else expect(verified.body).toSatisfy(isWireError);
        const redeemed = await api('POST', '/api/v1/grants/redeem', null, { token });
        expect(redeemed.body).toSatisfy(isWireError);
        expect([400, 403]).toContain(redeemed.status);
        expect(await fingerprint()).toEqual(before);
      }
      await refusedUnchanged(() => api('POST', '/api/v1/grants/verify', null, { token: 'a.b.c', payload: { action: 'deploy' } }), 400, 'INVALID_INPUT');
      await refusedUnchanged(() => api('POST', '/api/v1/grants/verify', null, { token: ['a'] }), 400, 'INVALID_INPUT');
    });
  });

  describe('users and tokens', () => {
    it('users that are not well formed, or that would clash', async () => {
      const create = (body: unknown) => () => api('POST', '/api/v1/users', ADMIN_TOKEN, body);
      await refusedUnchanged(create({ name: 'alice', roles: ['requester'] }), 409, 'CONFLICT');
      for (const body of [
        { name: 'mallory', roles: [] },
        { name: 'mallory', roles: ['root'] },
        { name: 'mallory', roles: 'admin' },
        { name: 'mallory', roles: ['requester'], groups: Array.from({ length: 51 }, (_, index) => `g${index}`) },
        { name: 'mallory', roles: ['requester'], groups: ['../sre'] },
        { name: 'mаllory', roles: ['requester'] },
        { name: 'mallory\u0000', roles: ['requester'] },
        { name: '', roles: ['requester'] },
        { name: 'm'.repeat(65), roles: ['requester'] },
        { name: 'Greenlight', roles: ['requester'] },
        { name: 'usr_0abc', roles: ['requester'] },
        { name: 'mallory', roles: ['requester'], email: 'not-an-email' },
        { name: 'mallory', roles: ['admin'], service: true },
        { name: 'mallory', roles: ['requester'], admin: true },
      ]) {
        await refusedUnchanged(create(body), 400, 'INVALID_INPUT');
      }
      await refusedUnchanged(() => api('POST', '/api/v1/users', alice.token, { name: 'mallory', roles: ['admin'] }), 403, 'FORBIDDEN');
      await refusedUnchanged(() => api('PATCH', '/api/v1/users/alice', alice.token, { roles: ['admin'] }), 403, 'FORBIDDEN');
      await refusedUnchanged(() => api('PATCH', '/api/v1/users/nobody', ADMIN_TOKEN, { roles: ['admin'] }), 404, 'NOT_FOUND');
      await refusedUnchanged(() => api('PATCH', '/api/v1/users/alice', ADMIN_TOKEN, {}), 400, 'INVALID_INPUT');
      await refusedUnchanged(() => api('PATCH', '/api/v1/users/alice', ADMIN_TOKEN, { name: 'bob' }), 400, 'INVALID_INPUT');
    });

    it('tokens with expiries that are negative, zero, absurd or not durations; scopes beyond the role', async () => {
      const create = (user: TestUser, body: unknown) => () => api('POST', '/api/v1/tokens', user.token, body);
      for (const expiresIn of [-1, 0, 1.5, '0d', '-1d', '1e3s', '99999999999999999999d', '366d', 'forever', '', null, Number.MAX_SAFE_INTEGER]) {
        await refusedUnchanged(create(alice, { name: 'ci', scopes: ['requests:create'], expiresIn }), 400, 'INVALID_INPUT');
      }
      await refusedUnchanged(create(alice, { name: 'ci', scopes: [], expiresIn: '30d' }), 400, 'INVALID_INPUT');
      await refusedUnchanged(create(alice, { name: 'ci', scopes: ['requests:create', 'requests:create', 'requests:create', 'requests:create', 'requests:create', 'requests:create', 'requests:create', 'requests:create'], expiresIn: '30d' }), 400, 'INVALID_INPUT');
      await refusedUnchanged(create(alice, { name: 'ci', scopes: ['root'], expiresIn: '30d' }), 400, 'INVALID_INPUT');
      await refusedUnchanged(create(alice, { name: 'c\ni', scopes: ['requests:create'], expiresIn: '30d' }), 400, 'INVALID_INPUT');
      await refusedUnchanged(create(alice, { name: 'ci', scopes: ['admin'], expiresIn: '30d' }), 403, 'FORBIDDEN');
      await refusedUnchanged(create(alice, { name: 'ci', scopes: ['requests:decide'], expiresIn: '30d' }), 403, 'FORBIDDEN');
      await refusedUnchanged(create(alice, { name: 'ci', scopes: ['requests:create'], expiresIn: '30d', user: 'bob' }), 403, 'FORBIDDEN');
    });

    it("someone else's token is neither listed nor revoked", async () => {
      const made = await hub.api<{ id: string }>('POST', '/api/v1/tokens', bob.token, { name: 'bobs-ci', scopes: ['requests:read'], expiresIn: '30d' });
      expect(made.status).toBe(201);
      await refusedUnchanged(() => api('DELETE', `/api/v1/tokens/${made.body.id}`, alice.token), 404, 'NOT_FOUND');
      await refusedUnchanged(() => api('GET', '/api/v1/tokens?user=bob', alice.token), 403, 'FORBIDDEN');
    });
  });

  describe('round two: races, headers, methods and the pages outside the API', () => {
    it('the same idempotency key sent many times at once: one request, the same answer to all', async () => {
      const body = deployRequest({ idempotencyKey: 'probe-race-1' });
      const answers = await Promise.all(Array.from({ length: 8 }, () => hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, body)));
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      // Different bodies under one key at once: one is taken, every other is told why.
      const mixed = await Promise.all(
        ['first', 'second', 'third', 'fourth'].map((word) => hub.api<GreenlightRequest & ErrorBody>('POST', '/api/v1/requests', alice.token, deployRequest({ idempotencyKey: 'probe-race-2', reason: `the ${word} reason` }))),
      );
      expect(mixed.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409]);
      for (const answer of mixed.filter((one) => one.status === 409)) expect(answer.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
      for (const id of [answers[0]!.body.id, mixed.find((one) => one.status === 201)!.body.id]) {
        expect((await api('POST', `/api/v1/requests/${id}/cancel`, alice.token, {})).status).toBe(200);
      }
    });

    it('query keys that reach for prototypes, and very many parameters', async () => {
      for (const route of ['/api/v1/requests?__proto__=x', '/api/v1/requests?__proto__[status]=pending', '/api/v1/requests?constructor[prototype][x]=1', `/api/v1/requests?${Array.from({ length: 2_000 }, (_, index) => `k${index}=1`).join('&')}`]) {
        const before = await fingerprint();
        const answer = await api('GET', route, alice.token);
        expect(answer.body, route.slice(0, 80)).toSatisfy(isWireError);
        expect(answer.status, route.slice(0, 80)).toBe(400);
        expect(await fingerprint()).toEqual(before);
      }
    });

    it('Authorization headers that are not one bearer token', async () => {
      for (const authorization of ['Bearer', 'Bearer ', `Bearer ${alice.token} ${bob.token}`, `Basic ${Buffer.from('alice:x').toString('base64')}`, `Bearer ${'x'.repeat(8_000)}`, 'Bearer glt_\u00e9', `Bearer ${alice.token},Bearer ${bob.token}`]) {
        const answer = await raw('GET', '/api/v1/me', { headers: { authorization } });
        expect(answer.body, authorization.slice(0, 40)).toSatisfy(isWireError);
        expect(answer.status, authorization.slice(0, 40)).toBe(401);
      }
    });

    it('methods a route does not take, HEAD and OPTIONS', async () => {
      for (const [method, route] of [['PUT', '/api/v1/requests'], ['DELETE', '/api/v1/requests'], ['PATCH', '/api/v1/requests/req_000000000000'], ['OPTIONS', '/api/v1/requests'], ['POST', '/api/v1/me']]) {
        const before = await fingerprint();
        const answer = await raw(method!, route!, { token: alice.token });
        expect(answer.body, `${method} ${route}`).toSatisfy(isWireError);
        expect([400, 404, 405], `${method} ${route}: ${answer.status}`).toContain(answer.status);
        expect(await fingerprint()).toEqual(before);
      }
      const head = await fetch(`${hub.url}/api/v1/requests`, { method: 'HEAD', headers: { authorization: `Bearer ${alice.token}` } });
      expect(head.status).toBe(200);
    });

    it('duplicate keys in one JSON body are read once, as JSON.parse reads them: the last wins, nothing more', async () => {
      const own = await submit(alice);
      const answer = await raw('POST', `/api/v1/requests/${own.id}/decisions`, { token: bob.token, headers: { 'content-type': 'application/json' }, body: '{"decision":"approve","decision":"deny"}' });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'denied' });
    });

    it('decisions and cancellations with hostile extras', async () => {
      const pending = await submit(alice);
      for (const body of [
        { decision: 'approve', notBefore: '0000-01-01T00:00:00Z' },
        { decision: 'approve', notBefore: '2026-12-22T08:00:00Z' },
        { decision: 'approve', notBefore: '9999-12-31T23:59:59-23:59' },
        { decision: 'approve', notBefore: 'later' },
        { decision: 'approve', comment: 42 },
        { decision: 'approve', comment: 'fine\u202Eenod' },
        { decision: 'approve', onBehalfOf: '' },
        { decision: 'approve', onBehalfOf: 'x'.repeat(65) },
        { decision: ['approve'] },
        { decision: 'APPROVE' },
      ]) {
        await refusedUnchanged(() => decide(bob, pending.id, body), 400, 'INVALID_INPUT');
      }
      for (const body of [{ reason: 42 }, { reason: '' }, { reason: '\u200B' }, { reason: 'r'.repeat(2_001) }, { why: 'because' }, []]) {
        await refusedUnchanged(() => api('POST', `/api/v1/requests/${pending.id}/cancel`, alice.token, body), 400, 'INVALID_INPUT');
      }
      // An admin ending someone else's request says why.
      await refusedUnchanged(() => api('POST', `/api/v1/requests/${pending.id}/cancel`, ADMIN_TOKEN, {}), 400, 'INVALID_INPUT');
      // A review is only for a break-glass use.
      await refusedUnchanged(() => api('POST', `/api/v1/requests/${pending.id}/review`, sue.token, { outcome: 'ratified', comment: 'looked at it afterwards' }), 404, 'NOT_FOUND');
      // Someone else's claim is not released by another.
      expect((await api('POST', `/api/v1/requests/${pending.id}/claim`, bob.token)).status).toBe(200);
      await refusedUnchanged(() => api('POST', `/api/v1/requests/${pending.id}/release`, carol.token), 403, 'FORBIDDEN');
      expect((await api('POST', `/api/v1/requests/${pending.id}/cancel`, alice.token, {})).status).toBe(200);
    });

    it('admins cannot lock the hub out: their own admin role, the last admin', async () => {
      const me = await hub.api<{ name: string }>('GET', '/api/v1/me', ADMIN_TOKEN);
      await refusedUnchanged(() => api('PATCH', `/api/v1/users/${me.body.name}`, ADMIN_TOKEN, { roles: ['requester'] }), 409, 'LAST_ADMIN');
      await refusedUnchanged(() => api('POST', `/api/v1/users/${me.body.name}/disable`, ADMIN_TOKEN), 409, 'LAST_ADMIN');
    });

    it('user names that differ only by case from an existing one', async () => {
      const answer = await api('POST', '/api/v1/users', ADMIN_TOKEN, { name: 'ALICE', roles: ['approver'], groups: ['sre'] });
      expect(answer.body).toSatisfy(isWireError);
      expect(answer.status).toBe(409);
    });

    it('email action links that are not links, and forms that are not forms', async () => {
      for (const token of ['x', 'a'.repeat(43), '%00'.repeat(10), 'a'.repeat(129), '..%2F..%2Fapi%2Fv1%2Fme']) {
        const before = await fingerprint();
        const shown = await raw('GET', `/email-actions/${token}`);
        expect([400, 404], `${token}: ${shown.status}`).toContain(shown.status);
        const posted = await raw('POST', `/email-actions/${token}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `comment=${'c'.repeat(5_000)}&comment=again&__proto__=x` });
        expect([400, 404, 413], `${token}: ${posted.status}`).toContain(posted.status);
        const json = await raw('POST', `/email-actions/${token}`, { headers: { 'content-type': 'application/json' }, body: '{"comment":{"a":1}}' });
        expect([400, 404], `${token}: ${json.status}`).toContain(json.status);
        expect(await fingerprint()).toEqual(before);
      }
    });

    it('the Slack and sign-in endpoints of a hub without Slack or single sign-on', async () => {
      await refusedUnchanged(() => raw('POST', '/integrations/slack/actions', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%7D' }), 404, 'NOT_FOUND');
      await refusedUnchanged(() => raw('POST', '/integrations/slack/actions', { headers: { 'content-type': 'application/json' }, body: '{"payload":"{}"}' }), 404, 'NOT_FOUND');
      await refusedUnchanged(() => raw('POST', '/auth/oidc/desktop/token', { headers: { 'content-type': 'application/json' }, body: '{"code":"x","verifier":"y"}' }), 404, 'NOT_FOUND');
      await refusedUnchanged(() => raw('GET', '/auth/oidc/login?desktop=http://evil.example/'), 404, 'NOT_FOUND');
    });
  });

  describe('break-glass reviews', () => {
    it('only a reviewer reviews, once, with an outcome and a comment', async () => {
      const used = await hub.api<GreenlightRequest>('POST', '/api/v1/requests', dave.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC-77' } }));
      expect(used.status).toBe(201);
      const review = (user: TestUser, body: unknown) => () => api('POST', `/api/v1/requests/${used.body.id}/review`, user.token, body);
      const fine = { outcome: 'ratified', comment: 'matches the incident timeline' };
      for (const user of [bob, dave, dana]) {
        const answer = await review(user, fine)();
        expect(answer.body, user.name).toSatisfy(isWireError);
        expect([403], `${user.name}: ${JSON.stringify(answer.body)}`).toContain(answer.status);
      }
      for (const body of [{ outcome: 'approved', comment: 'fine' }, { outcome: 'ratified' }, { outcome: 'ratified', comment: '\u200B' }, { outcome: 'ratified', comment: 'x'.repeat(2_001) }, { ...fine, onBehalfOf: '' }]) {
        await refusedUnchanged(review(sue, body), 400, 'INVALID_INPUT');
      }
      expect((await review(sue, fine)()).status).toBe(200);
      await refusedUnchanged(review(sue, { outcome: 'unratified', comment: 'changed my mind later' }), 409, 'ALREADY_DECIDED');
      // Within the cooldown, a second use is refused whatever the review said.
      await refusedUnchanged(() => api('POST', '/api/v1/requests', dave.token, deployRequest({ reason: REASON, breakGlass: { incident: 'INC-78' } })), 429, 'BREAK_GLASS_COOLDOWN');
    });
  });

  describe('admin reads with hostile arguments', () => {
    it('explaining as someone who does not exist, and retrying a notification that never was', async () => {
      const explained = await api('GET', '/api/v1/policy/explain?action=deploy&resource=x&environment=production&as=nobody', ADMIN_TOKEN);
      expect(explained.status, JSON.stringify(explained.body)).toBeLessThan(500);
      if (explained.status >= 400) expect(explained.body).toSatisfy(isWireError);
      await refusedUnchanged(() => api('POST', '/api/v1/notifications/ntf_0000000000/retry', ADMIN_TOKEN), 404, 'NOT_FOUND');
      await refusedUnchanged(() => api('POST', '/api/v1/notifications/ntf_0000000000/retry', alice.token), 403, 'FORBIDDEN');
    });
  });

  describe('doing a thing twice writes it once', () => {
    /** Runs `act`; whatever it answers, the second run must leave every table as the first left it. */
    const twice = async (act: () => Promise<Answer>) => {
      const first = await act();
      const before = await fingerprint();
      const second = await act();
      expect(second.status, JSON.stringify(second.body)).toBeLessThan(500);
      if (second.status >= 400) expect(second.body).toSatisfy(isWireError);
      expect(await fingerprint()).toEqual(before);
      return [first, second] as const;
    };

    it('claims, releases, revokes, enables and disables', async () => {
      const pending = await submit(alice);
      // Claiming again is not in this list: it renews the hold from now, and that is written.
      expect((await api('POST', `/api/v1/requests/${pending.id}/claim`, bob.token)).status).toBe(200);
      await twice(() => api('POST', `/api/v1/requests/${pending.id}/release`, bob.token));
      await twice(() => api('POST', `/api/v1/requests/${pending.id}/cancel`, alice.token, {}));

      const approved = await submit(alice);
      await decide(bob, approved.id, { decision: 'approve' });
      const grant = (await hub.api<GreenlightRequest>('GET', `/api/v1/requests/${approved.id}`, alice.token)).body.grant!;
      const [, again] = await twice(() => api('POST', `/api/v1/grants/${grant.jti}/revoke`, alice.token));
      expect(again.status).toBe(409);

      const made = await hub.api<{ id: string }>('POST', '/api/v1/tokens', alice.token, { name: 'twice', scopes: ['requests:read'], expiresIn: '1d' });
      await twice(() => api('DELETE', `/api/v1/tokens/${made.body.id}`, alice.token));

      await twice(() => api('POST', '/api/v1/users/sue/enable', ADMIN_TOKEN));
      const mallory = await hub.createUser('mallory', ['requester']);
      await twice(() => api('POST', `/api/v1/users/${mallory.name}/disable`, ADMIN_TOKEN));
      await twice(() => api('PATCH', '/api/v1/users/sue', ADMIN_TOKEN, { groups: ['security'] }));
    });

    it('waiting on, or reading over the socket, a request that is not yours', async () => {
      const bobs = await submit(bob);
      await refusedUnchanged(() => api('GET', `/api/v1/requests/${bobs.id}/wait?timeoutSeconds=0`, alice.token), 403, 'FORBIDDEN');
      expect((await api('POST', `/api/v1/requests/${bobs.id}/cancel`, bob.token, {})).status).toBe(200);
    });
  });

  describe('socket handshakes', () => {
    const handshake = (auth: unknown) =>
      new Promise<{ code?: string; message?: string }>((resolve, reject) => {
        const socket = io(hub.url, { auth: auth as Record<string, unknown>, forceNew: true, transports: ['websocket'], reconnection: false });
        const timer = setTimeout(() => {
          socket.close();
          reject(new Error('no answer to the handshake'));
        }, 5_000);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.close();
          resolve({});
        });
        socket.once('connect_error', (error: Error & { data?: { code?: string; message?: string } }) => {
          clearTimeout(timer);
          socket.close();
          resolve(error.data ?? { message: error.message });
        });
      });

    it('tokens of the wrong type or size are refused as UNAUTHENTICATED', async () => {
      for (const auth of [{}, { token: 42 }, { token: ['x'] }, { token: { toString: 'x' } }, { token: '' }, { token: 'x'.repeat(100_000) }, { token: `${alice.token}\u0000` }]) {
        expect(await handshake(auth), JSON.stringify(auth).slice(0, 60)).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.any(String) });
      }
    });
  });

  describe('socket events', () => {
    let socket: Socket;
    beforeAll(async () => {
      socket = io(hub.url, { auth: { token: alice.token }, forceNew: true, transports: ['websocket'] });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
    });
    afterAll(() => {
      socket?.close();
    });

    const emit = (event: string, ...payload: unknown[]) =>
      new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${event}: no answer`)), 5_000);
        socket.emit(event, ...payload, (answer: unknown) => {
          clearTimeout(timer);
          resolve(answer);
        });
      });
    const ackRefused = async (event: string, payload: unknown[], code: string) => {
      const before = await fingerprint();
      const answer = await emit(event, ...payload);
      expect(answer, `${event} ${JSON.stringify(payload).slice(0, 200)}`).toMatchObject({ error: { code, message: expect.any(String) } });
      expect(await fingerprint()).toEqual(before);
    };

    it('every event: payloads of the wrong shape are INVALID_INPUT', async () => {
      const events = ['request:submit', 'request:decide', 'request:cancel', 'request:review', 'request:claim', 'request:release', 'request:get'];
      for (const event of events) {
        for (const payload of [null, 42, 'text', true, [], [{ requestId: 'req_1' }], { requestId: 42 }, { requestId: '../x' }, { requestId: 'x'.repeat(65) }, { requestId: { $gt: '' } }]) {
          await ackRefused(event, [payload], 'INVALID_INPUT');
        }
      }
      await ackRefused('requests:sync', [{ everything: true }], 'INVALID_INPUT');
      await ackRefused('requests:sync', [[]], 'INVALID_INPUT');
    });

    it('submit over the socket checks the same as over HTTP', async () => {
      await ackRefused('request:submit', [deployRequest({ requestedTtlSeconds: -5 })], 'INVALID_INPUT');
      await ackRefused('request:submit', [deployRequest({ notBefore: '0000-01-01T00:00:00Z' })], 'INVALID_INPUT');
      await ackRefused('request:submit', [deployRequest({ resource: 'pаyments-api' })], 'INVALID_INPUT');
      await ackRefused('request:submit', [deployRequest({ action: 'drop-database' })], 'NO_POLICY');
      await ackRefused('request:submit', [deployRequest({ reason: REASON, breakGlass: { incident: 'INC-1' } })], 'BREAK_GLASS_FORBIDDEN');
      await ackRefused('request:decide', [{ requestId: 'req_000000000000', decision: 'approve' }], 'NOT_FOUND');
    });

    it('extra arguments, an unknown event and an event without an ack leave the connection working', async () => {
      await ackRefused('request:get', [{ requestId: 'req_000000000000' }, 'extra', { more: true }], 'NOT_FOUND');
      socket.emit('request:nothing', { requestId: 'x' });
      socket.emit('request:submit', deployRequest({ reason: 'no ack, still checked' , risk: 'extreme' }));
      socket.emit('constructor', {});
      socket.emit('__proto__', {});
      expect(await emit('requests:sync')).toMatchObject({ data: { me: { name: 'alice' } } });
    });
  });
});
