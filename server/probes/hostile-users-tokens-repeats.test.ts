import { describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ADMIN_TOKEN, type TestUser } from '../test-support/hub-fixture.js';
import { isWireError } from '../test-support/http.js';
import { hostileHub, type Answer } from './hostile-hub.js';

/**
 * The outside review's probe, on people and their tokens, and on doing a thing twice: users and
 * tokens that are not well formed or not the caller's, admins locking the hub out, and repeats
 * that must write once. Each refusal must come with its stable code and a message, never a 500,
 * and leave nothing behind.
 */

describe('hostile input: every refusal has its code, nothing half-written, nothing allowed that policy did not', () => {
  const { hub, api, fingerprint, refusedUnchanged, submit, decide, alice, bob } = hostileHub();

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
  });

  describe('doing a thing twice writes it once', () => {
    /** Runs `act`, which must do what it asks; whatever the second run answers, it must leave every table as the first left it. */
    const twice = async (act: () => Promise<Answer>) => {
      const first = await act();
      expect(first.status, JSON.stringify(first.body)).toBeLessThan(300);
      const before = await fingerprint();
      const second = await act();
      expect(second.status, JSON.stringify(second.body)).toBeLessThan(500);
      if (second.status >= 400) expect(second.body).toSatisfy(isWireError);
      expect(await fingerprint()).toEqual(before);
      return [first, second] as const;
    };

    it('claims, releases, revokes, enables and disables', async () => {
      const pending = await submit(alice);
      await twice(() => api('POST', `/api/v1/requests/${pending.id}/claim`, bob.token));
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
      const before = await fingerprint();
      const alicesApp = await hub.connect(alice);
      await expect(alicesApp.get(bobs.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await fingerprint()).toEqual(before);
      expect((await api('POST', `/api/v1/requests/${bobs.id}/cancel`, bob.token, {})).status).toBe(200);
    });
  });
});
