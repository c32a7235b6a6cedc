import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { grantStore } from './grants.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const issued = { jti: 'gnt_1', requestId: 'req_1', requesterId: 'usr_1', sealedToken: 'a.b.c', payloadHash: 'ab12', issuedAt: '2026-12-01T00:00:00.000Z', notBefore: '2026-12-01T00:00:00.000Z', expiresAt: '2026-12-01T01:00:00.000Z', signingKey: 'sgk_1' };

/** Grants go in as records and come back as records: camel-cased, the status one of the known ones. */
describe.each(await storeKinds())('grant records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('an issued grant is active, found by its id and by its request; a redeem outside its span changes nothing', async () => {
    await grantStore.insert(store.db, issued);
    const expected = { ...issued, status: 'active', redeemedAt: null, revokedAt: null, revokedBy: null };
    expect(await grantStore.byJti(store.db, 'gnt_1')).toEqual(expected);
    expect(await grantStore.ofRequest(store.db, 'req_1')).toEqual(expected);
    expect(await grantStore.ofRequests(store.db, ['req_1', 'req_none'])).toEqual([expected]);
    expect(await grantStore.stateOf(store.db, 'gnt_1')).toEqual({ status: 'active', issuedAt: issued.issuedAt, notBefore: issued.notBefore, expiresAt: issued.expiresAt, requestId: 'req_1', payloadHash: issued.payloadHash, requesterDisabled: false, request: null, onBehalfOf: [] });
    expect(await grantStore.spanOfRequest(store.db, 'req_1')).toEqual({ notBefore: issued.notBefore, expiresAt: issued.expiresAt });
    expect(await grantStore.requestIdOf(store.db, 'gnt_1')).toBe('req_1');
    expect(await grantStore.lastExpiryBySigningKey(store.db, ['sgk_1', 'sgk_0'])).toEqual(new Map([['sgk_1', issued.expiresAt]]));
    expect(await grantStore.redeem(store.db, 'gnt_1', 'req_1', '2026-12-01T02:00:00.000Z')).toBe(false);
    expect(await grantStore.statusOf(store.db, 'gnt_1')).toBe('active');
  });

  it.skipIf(skip)('redeeming wins once; revoking or expiring a grant no longer active leaves it as it was', async () => {
    await grantStore.insert(store.db, { ...issued, jti: 'gnt_2', requestId: 'req_2' });
    expect(await grantStore.redeem(store.db, 'gnt_2', 'req_2', '2026-12-01T00:10:00.000Z')).toBe(true);
    expect(await grantStore.redeem(store.db, 'gnt_2', 'req_2', '2026-12-01T00:11:00.000Z')).toBe(false);
    await grantStore.revoke(store.db, 'gnt_2', '2026-12-01T00:12:00.000Z', 'alice');
    await grantStore.expire(store.db, 'gnt_2');
    expect(await grantStore.byJti(store.db, 'gnt_2')).toMatchObject({ status: 'redeemed', redeemedAt: '2026-12-01T00:10:00.000Z', revokedAt: null, revokedBy: null });
    await grantStore.insert(store.db, { ...issued, jti: 'gnt_3', requestId: 'req_3' });
    await grantStore.revoke(store.db, 'gnt_3', '2026-12-01T00:12:00.000Z', 'alice');
    expect(await grantStore.byJti(store.db, 'gnt_3')).toMatchObject({ status: 'revoked', revokedAt: '2026-12-01T00:12:00.000Z', revokedBy: 'alice' });
  });

  it.skipIf(skip)('a status the hub never writes is refused, not passed on', async () => {
    await store.db
      .insertInto('grants')
      .values({ jti: 'gnt_4', request_id: 'req_4', requester_id: 'usr_1', token: 't', payload_hash: 'h', issued_at: issued.issuedAt, not_before: issued.notBefore, expires_at: issued.expiresAt, status: 'borrowed', redeemed_at: null, revoked_at: null, revoked_by: null })
      .execute();
    await expect(grantStore.byJti(store.db, 'gnt_4')).rejects.toThrow(/borrowed/);
  });
});
