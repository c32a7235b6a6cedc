import { describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest } from '../test-support/hub-fixture.js';
import type { ErrorBody } from '../test-support/http.js';
import { hostileHub, REASON } from './hostile-hub.js';

/**
 * The outside review's probe, on what a request body may hold: bodies that are not JSON objects,
 * and every field of a new request pushed past its type, size and meaning. Each refusal must come
 * with its stable code and a message, never a 500, and leave nothing behind.
 */

describe('hostile input: every refusal has its code, nothing half-written, nothing allowed that policy did not', () => {
  const { hub, api, raw, rawJson, refusedUnchanged, alice, bob, dave, sue } = hostileHub();

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
          await refusedUnchanged(() => rawJson(method, route, token(), body), 400, 'INVALID_INPUT');
        }
      });

      it(`${method} ${route}: no body, an empty one, or one in another media type is INVALID_INPUT`, async () => {
        await refusedUnchanged(() => raw(method, route, { token: token() }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => rawJson(method, route, token(), ''), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'text/plain' }, body: '{"a":1}' }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' }), 400, 'INVALID_INPUT');
        await refusedUnchanged(() => raw(method, route, { token: token(), headers: { 'content-type': 'application/json; charset=latin1' }, body: '{}' }), 400, 'INVALID_INPUT');
      });
    }

    it('JSON nested past the limit, and prototype keys, on a request', async () => {
      await refusedUnchanged(() => rawJson('POST', '/api/v1/requests', alice.token, '['.repeat(100_000)), 400, 'JSON_TOO_DEEP');
      await refusedUnchanged(
        () => rawJson('POST', '/api/v1/requests', alice.token, JSON.stringify(deployRequest()).replace('{', '{"__proto__":{"admin":true},')),
        400,
        'INVALID_INPUT',
      );
      await refusedUnchanged(() => rawJson('POST', '/api/v1/requests', alice.token, '{"action": "deploy",'), 400, 'INVALID_INPUT');
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
        { resource: 'рау-api' /* a word all in Cyrillic letters drawn like p, a, y */ },
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
      await refusedUnchanged(() => rawJson('POST', '/api/v1/requests', alice.token, body), 400, 'INVALID_INPUT');
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
      expect(lookalike.status).toBe(201);
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
  });
});
