import { describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../../protocol/index.js';
import { ADMIN_TOKEN, deployRequest, type TestUser } from '../test-support/hub-fixture.js';
import { isWireError } from '../test-support/http.js';
import { hostileHub, MINUTE, REASON } from './hostile-hub.js';

/**
 * The outside review's probe, on acting where one may not: on someone else's request, grant or
 * delegation, on a request already decided or expired, and on a break-glass use. Each refusal must
 * come with its stable code and a message, never a 500, and leave nothing behind.
 */

describe('hostile input: every refusal has its code, nothing half-written, nothing allowed that policy did not', () => {
  const { clock, hub, api, fingerprint, refusedUnchanged, submit, decide, alice, bob, carol, dana, dave, sue } = hostileHub();

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

  describe('round two: races, headers, methods and the pages outside the API', () => {
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
    it('extending a redeemed, expired, revoked or someone else’s grant is refused', async () => {
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
});
