import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN } from '../test-support/hub-fixture.js';
import { isWireError } from '../test-support/http.js';
import { hostileHub } from './hostile-hub.js';

/**
 * The outside review's probe, on everything around the body: ids in the path, query strings,
 * headers, methods, and the pages outside the API. Each refusal must come with its stable code
 * and a message, never a 500, and leave nothing behind.
 */

describe('hostile input: every refusal has its code, nothing half-written, nothing allowed that policy did not', () => {
  const { hub, api, raw, rawJson, fingerprint, refusedAsOneOf, refusedUnchanged, submit, alice, bob, sue } = hostileHub();

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
          await refusedAsOneOf(() => api(method, route(id), token(), body), [400, 404], id);
        }
      });
    }
  });

  describe('query strings', () => {
    it('repeated parameters, arrays where one value is expected, and numbers past every bound', async () => {
      // Asked by a requester:
      const asAlice = [
        '/api/v1/requests?status=pending&status=approved',
        '/api/v1/requests?status[]=pending',
        '/api/v1/requests?status=PENDING',
        '/api/v1/requests?limit=0',
        '/api/v1/requests?limit=-1',
        '/api/v1/requests?limit=1e3',
        '/api/v1/requests?limit=0x10',
        '/api/v1/requests?limit=99999999999999999999999',
        '/api/v1/requests?limit=1&limit=2',
        '/api/v1/requests?limit=',
        '/api/v1/requests?cursor=1',
        '/api/v1/requests?cursor=req_\u0000',
        '/api/v1/requests?mine=yes',
        '/api/v1/requests?unknown=1',
        '/api/v1/requests/req_000000000000/wait?timeoutSeconds=-1',
        '/api/v1/requests/req_000000000000/wait?timeoutSeconds=1e9',
        '/api/v1/requests/req_000000000000/wait?timeoutSeconds=301',
        '/api/v1/policy/explain',
        '/api/v1/policy/explain?action=deploy&resource=x&environment=production&as=bob',
        '/api/v1/policy/explain?action=deploy&action=other&resource=x&environment=production',
        '/api/v1/policy/explain?action=de%00ploy&resource=x&environment=production',
        '/api/v1/tokens?user=../admin',
      ];
      // Asked by an admin, who may read everything:
      const asAdmin = [
        '/api/v1/audit?limit=1001',
        '/api/v1/audit?cursor=99999999999',
        '/api/v1/audit?cursor=-1',
        '/api/v1/audit?cursor=0',
        '/api/v1/audit?from=2026-13-01',
        '/api/v1/audit?from=0',
        '/api/v1/audit?from=%2B275760-09-13',
        '/api/v1/audit?to=2026-12-01T09:00:00',
        '/api/v1/audit?type=request.nothing',
        '/api/v1/audit?type=break_glass&type=break_glass',
        '/api/v1/audit?format=xml',
        `/api/v1/audit?q=${'q'.repeat(300)}`,
        '/api/v1/audit/verify?expect=1:abc',
        `/api/v1/audit/verify?expect=99999999999:${'0'.repeat(64)}`,
        '/api/v1/audit/verify?expect=a&expect=b',
        '/api/v1/reports/decisions?from=2026-12-22&to=2026-12-01',
        '/api/v1/reports/decisions?from=2020-01-01&to=2026-01-01',
        '/api/v1/reports/decisions?from=yesterday',
        '/api/v1/notifications?limit=0',
        '/api/v1/notifications?cursor=../x',
        '/api/v1/notifications?status=lost',
        '/api/v1/tokens?user=a&user=b',
      ];
      for (const [routes, token] of [[asAlice, alice.token], [asAdmin, ADMIN_TOKEN]] as const) {
        for (const route of routes) await refusedAsOneOf(() => api('GET', route, token), [400, 403], route);
      }
    });
  });

  describe('round two: races, headers, methods and the pages outside the API', () => {
    it('query keys that reach for prototypes, and very many parameters', async () => {
      for (const route of ['/api/v1/requests?__proto__=x', '/api/v1/requests?__proto__[status]=pending', '/api/v1/requests?constructor[prototype][x]=1', `/api/v1/requests?${Array.from({ length: 2_000 }, (_, index) => `k${index}=1`).join('&')}`]) {
        await refusedAsOneOf(() => api('GET', route, alice.token), [400], route.slice(0, 80));
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
      for (const [method, route] of [['PUT', '/api/v1/requests'], ['DELETE', '/api/v1/requests'], ['PATCH', '/api/v1/requests/req_000000000000'], ['OPTIONS', '/api/v1/requests'], ['POST', '/api/v1/me']] as const) {
        await refusedAsOneOf(() => raw(method, route, { token: alice.token }), [400, 404, 405], `${method} ${route}`);
      }
      const head = await fetch(`${hub.url}/api/v1/requests`, { method: 'HEAD', headers: { authorization: `Bearer ${alice.token}` } });
      expect(head.status).toBe(200);
    });

    it('duplicate keys in one JSON body are read once, as JSON.parse reads them: the last wins, nothing more', async () => {
      const own = await submit(alice);
      const answer = await rawJson('POST', `/api/v1/requests/${own.id}/decisions`, bob.token, '{"decision":"approve","decision":"deny"}');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'denied' });
    });

    it('email action links that are not links, and forms that are not forms', async () => {
      for (const token of ['x', 'a'.repeat(43), '%00'.repeat(10), 'a'.repeat(129), '..%2F..%2Fapi%2Fv1%2Fme']) {
        const before = await fingerprint();
        const shown = await raw('GET', `/email-actions/${token}`);
        expect([400, 404], `${token}: ${shown.status}`).toContain(shown.status);
        const posted = await raw('POST', `/email-actions/${token}`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `comment=${'c'.repeat(5_000)}&comment=again&__proto__=x` });
        expect([400, 404, 413], `${token}: ${posted.status}`).toContain(posted.status);
        const json = await rawJson('POST', `/email-actions/${token}`, undefined, '{"comment":{"a":1}}');
        expect([400, 404], `${token}: ${json.status}`).toContain(json.status);
        expect(await fingerprint()).toEqual(before);
      }
    });

    it('the Slack and sign-in endpoints of a hub without Slack or single sign-on', async () => {
      await refusedUnchanged(() => raw('POST', '/integrations/slack/actions', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%7D' }), 404, 'NOT_FOUND');
      await refusedUnchanged(() => rawJson('POST', '/integrations/slack/actions', undefined, '{"payload":"{}"}'), 404, 'NOT_FOUND');
      await refusedUnchanged(() => rawJson('POST', '/auth/oidc/desktop/token', undefined, '{"code":"x","verifier":"y"}'), 404, 'NOT_FOUND');
      await refusedUnchanged(() => raw('GET', '/auth/oidc/login?desktop=http://evil.example/'), 404, 'NOT_FOUND');
    });
  });

  describe('admin reads with hostile arguments', () => {
    it('explaining as someone who does not exist, and retrying a notification that never was', async () => {
      const explained = await api('GET', '/api/v1/policy/explain?action=deploy&resource=x&environment=production&as=nobody', ADMIN_TOKEN);
      // Answered as a stranger would be: the rule, and no break-glass.
      expect({ status: explained.status, body: explained.body }).toMatchObject({ status: 200, body: { matched: true, rule: 'deploy-prod', breakGlass: { eligible: false } } });
      await refusedUnchanged(() => api('POST', '/api/v1/notifications/ntf_0000000000/retry', ADMIN_TOKEN), 404, 'NOT_FOUND');
      await refusedUnchanged(() => api('POST', '/api/v1/notifications/ntf_0000000000/retry', alice.token), 403, 'FORBIDDEN');
    });
  });
});
