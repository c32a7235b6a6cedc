import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { userStore } from './users.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';


/** The store's repositories on both databases: what goes in comes back as typed records, never as JSON text. */
describe.each(await storeKinds())('typed records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('a user comes back with roles as a list and disabled as a boolean, found by id or name', async () => {
    await userStore.insert(store.db, { id: 'usr_1', name: 'bob', roles: ['approver', 'lead'], email: null, slackUserId: null, service: false, createdAt: '2026-12-01T00:00:00.000Z' });
    const expected = { id: 'usr_1', name: 'bob', roles: ['approver', 'lead'], disabled: false, email: null, slackUserId: null, service: false, oidcSubject: null, lastSeenAt: null, createdAt: '2026-12-01T00:00:00.000Z' };
    expect(await userStore.byIdOrName(store.db, 'bob')).toEqual(expected);
    expect(await userStore.byIdOrName(store.db, 'usr_1')).toEqual(expected);
    await userStore.update(store.db, 'usr_1', { roles: ['admin'], disabled: true, email: 'bob@example.com' });
    expect(await userStore.all(store.db)).toEqual([{ ...expected, roles: ['admin'], disabled: true, email: 'bob@example.com' }]);
    expect(await userStore.activeAdminIds(store.db, false)).toEqual([]);
  });

  it.skipIf(skip)('a roles column holding something other than known roles is refused, not passed on', async () => {
    await store.db.insertInto('users').values({ id: 'usr_2', name: 'mallory', roles: '["root"]', disabled: 0, created_at: '2026-12-01T00:00:00.000Z', email: null, service: 0 }).execute();
    await expect(userStore.byIdOrName(store.db, 'mallory')).rejects.toThrow(/root|Invalid/);
  });
});
