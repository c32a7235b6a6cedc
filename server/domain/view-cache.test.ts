import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { newRequestSchema, type FrozenRule } from '../../protocol/index.js';
import { requestFixture } from '../../protocol/request-fixture.js';
import type { Store } from '../store/database.js';
import { grantStore } from '../store/grants.js';
import { requestStore, type RequestRef } from '../store/requests.js';
import { userStore } from '../store/users.js';
import { deployRequest, TestHub, type DatabaseKind, type TestUser } from '../test-support/hub-fixture.js';
import { mapLimit } from '../test-support/map-limit.js';
import { postgresAvailability } from '../test-support/postgres.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';
import { newRequestRecord } from './new-request.js';
import { buildViews, buildViewsCached, type ViewReader } from './request-view.js';
import { GrantTokenSeal } from '../keys/grant-token-seal.js';
import { ViewCache } from './view-cache.js';

const RULE: FrozenRule = { ...requestFixture().rule, name: 'prod-deploys' };
const alice = { id: 'usr_alice', name: 'alice', tokenId: null };
const SYNCERS = 4;

/** Views are built as a sync builds them: for refs read beforehand, each viewer with a fresh look at the cache. */
describe.each(await storeKinds())('views missing from the cache on $label', ({ kind, skip }) => {
  let store: Store;
  let reader: ViewReader;
  const seal = new GrantTokenSeal(randomBytes(32));
  let cleanup: () => Promise<void> = async () => undefined;
  let seq = 0;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
    reader = { db: store.db, grantTokens: seal };
    await userStore.insert(store.db, { ...alice, roles: ['requester'], email: null, slackUserId: null, service: false, createdAt: '2026-12-01T00:00:00.000Z' });
  });
  afterEach(() => vi.restoreAllMocks());
  afterAll(async () => cleanup());

  const submit = async (count: number, status: 'pending' | 'approved' = 'pending'): Promise<RequestRef[]> => {
    const refs: RequestRef[] = [];
    for (let i = 0; i < count; i++) {
      const parsed = newRequestSchema.parse({ action: 'deploy', resource: `api-${++seq}`, environment: 'prod', reason: 'release' });
      const record = { ...newRequestRecord(alice, parsed, RULE, new Date()), status };
      await requestStore.insert(store.db, store.dialect, record);
      refs.push({ id: record.id, version: record.version });
    }
    return refs;
  };

  it.skipIf(skip)(`are built once for ${SYNCERS} syncs that miss them at once, and all of them get the same views`, async () => {
    const refs = await submit(5);
    const cache = new ViewCache();
    const reads = vi.spyOn(requestStore, 'byIds');
    const views = await Promise.all(Array.from({ length: SYNCERS }, (_, i) => buildViewsCached(reader, cache, refs, { id: `usr_approver_${i}` })));
    expect(reads).toHaveBeenCalledTimes(1);
    const fresh = await buildViews(reader, await requestStore.byIds(store.db, refs.map((ref) => ref.id)), null);
    expect(views[0]?.map((view) => view.id)).toEqual(refs.map((ref) => ref.id));
    for (const each of views) expect(each).toEqual(views[0]);
    expect([...(views[0] ?? [])].sort((a, b) => a.id.localeCompare(b.id))).toEqual(fresh.sort((a, b) => a.id.localeCompare(b.id)));
  });

  it.skipIf(skip)('with a grant are built for each viewer: the requester’s token never reaches another viewer', async () => {
    const refs = await submit(1, 'approved');
    const id = refs[0]?.id ?? '';
    await grantStore.insert(store.db, { jti: `gnt_${id}`, requestId: id, requesterId: alice.id, sealedToken: seal.seal({ jti: `gnt_${id}`, requestId: id }, 'a.b.c'), payloadHash: 'ab12', issuedAt: '2026-12-01T00:00:00.000Z', notBefore: '2026-12-01T00:00:00.000Z', expiresAt: '2026-12-01T01:00:00.000Z', signingKey: 'sgk_1' });
    // Whichever of the two misses first builds; both orders, so neither viewer may receive the other's view.
    for (const requesterFirst of [true, false]) {
      const cache = new ViewCache();
      const reads = vi.spyOn(requestStore, 'byIds');
      reads.mockClear();
      const asRequester = () => buildViewsCached(reader, cache, refs, alice);
      const asOther = () => buildViewsCached(reader, cache, refs, { id: 'usr_bob' });
      const [requester, other] = requesterFirst ? await Promise.all([asRequester(), asOther()]) : (await Promise.all([asOther(), asRequester()])).reverse();
      expect(reads).toHaveBeenCalledTimes(2);
      expect(requester?.[0]?.grant?.token).toBe('a.b.c');
      expect(other?.[0]?.grant).toMatchObject({ jti: `gnt_${id}`, status: 'active' });
      expect(other?.[0]?.grant).not.toHaveProperty('token');
    }
  });

  it.skipIf(skip)('whose build fails are not kept: the syncs waiting on it build them themselves, and the next finds them cached', async () => {
    const refs = await submit(3);
    const cache = new ViewCache();
    const reads = vi.spyOn(requestStore, 'byIds').mockRejectedValueOnce(new Error('connection lost'));
    const outcomes = await Promise.allSettled(Array.from({ length: SYNCERS }, () => buildViewsCached(reader, cache, refs, null)));
    expect(outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String(outcome.reason))).toEqual(['Error: connection lost']);
    const fulfilled = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    expect(fulfilled).toHaveLength(SYNCERS - 1);
    for (const views of fulfilled) expect(views.map((view) => view.id)).toEqual(refs.map((ref) => ref.id));
    const after = reads.mock.calls.length;
    expect((await buildViewsCached(reader, cache, refs, null)).map((view) => view.id)).toEqual(refs.map((ref) => ref.id));
    // What the waiters built is remembered; the failed build left nothing behind.
    expect(reads.mock.calls.length).toBe(after);
  });
});

const pg = await postgresAvailability();

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  const skip = database === 'postgres' && !pg.ok;
  describe(`syncs at once on ${database}${skip ? ` (skipped: ${pg.reason})` : ''}`, () => {
    const PENDING = 150;
    const hub = new TestHub(database, { policy: 'rules:\n  - { name: prod, match: { action: deploy }, approvers: [sre], expireAfter: 1h, maxPending: 1000 }\n' });
    const approvers: TestUser[] = [];
    const sockets: Socket[] = [];

    beforeAll(async () => {
      if (skip) return;
      await hub.start();
      const requester = await hub.createUser('alice', ['requester']);
      for (let i = 0; i < SYNCERS; i++) approvers.push(await hub.createUser(`sre-${i}`, ['approver'], ['sre']));
      await mapLimit(Array.from({ length: PENDING }, (_, i) => i), 8, (i) => hub.api('POST', '/api/v1/requests', requester.token, deployRequest({ resource: `svc-${i}` })));
    });
    afterEach(() => vi.restoreAllMocks());
    afterAll(async () => {
      for (const socket of sockets.splice(0)) socket.close();
      await hub.dispose();
    });

    // Syncs take turns, and on PostgreSQL a turn ends at the first query, so their builds overlap.
    it.skipIf(skip)(`read each pending request once for ${SYNCERS} approvers, whose turns interleave`, async () => {
      const connected = await Promise.all(
        approvers.map(
          (user) =>
            new Promise<Socket>((resolve, reject) => {
              const socket = io(hub.url, { auth: { token: user.token }, forceNew: true, transports: ['websocket'], reconnection: false });
              sockets.push(socket);
              socket.once('connect', () => resolve(socket));
              socket.once('connect_error', reject);
            }),
        ),
      );
      const reads = vi.spyOn(requestStore, 'byIds');
      const inboxes = await Promise.all(connected.map((socket) => new Promise<number>((resolve) => socket.emit('requests:sync', {}, (answer: { data?: { inbox: unknown[] } }) => resolve(answer.data?.inbox.length ?? -1)))));
      expect(inboxes).toEqual(approvers.map(() => PENDING));
      expect(reads.mock.calls.reduce((sum, [, ids]) => sum + ids.length, 0)).toBe(PENDING);
    });
  });
}

describe('the JSON text of a view', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is made once for a view the cache holds, and afresh for one it does not', () => {
    const cache = new ViewCache();
    const held = requestFixture({ id: 'req_held', grant: null });
    cache.remember(held, '1');
    const stringify = vi.spyOn(JSON, 'stringify');
    expect(JSON.parse(cache.jsonOf(held))).toEqual(held);
    expect(JSON.parse(cache.jsonOf(held))).toEqual(held);
    const notHeld = requestFixture({ id: 'req_not_held', grant: null });
    expect(JSON.parse(cache.jsonOf(notHeld))).toEqual(notHeld);
    expect(JSON.parse(cache.jsonOf(notHeld))).toEqual(notHeld);
    expect(stringify.mock.calls.filter(([value]) => value === held)).toHaveLength(1);
    expect(stringify.mock.calls.filter(([value]) => value === notHeld)).toHaveLength(2);
  });

  it('is made afresh for a view with a grant, and for a view the cache has since replaced', () => {
    const cache = new ViewCache();
    const granted = requestFixture({
      id: 'req_granted',
      status: 'approved',
      grant: { jti: 'gr_1', status: 'active', issuedAt: '2026-12-06T00:00:00.000Z', expiresAt: '2026-12-06T00:15:00.000Z', token: 'eyJ.for-the-requester' },
    });
    cache.remember(granted, '1');
    const older = requestFixture({ id: 'req_changed', grant: null, version: 1 });
    cache.remember(older, '1');
    cache.remember(requestFixture({ id: 'req_changed', grant: null, version: 2 }), '2');
    const stringify = vi.spyOn(JSON, 'stringify');
    for (const view of [granted, granted, older, older]) cache.jsonOf(view);
    expect(stringify.mock.calls.filter(([value]) => value === granted)).toHaveLength(2);
    expect(stringify.mock.calls.filter(([value]) => value === older)).toHaveLength(2);
  });
});
