import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { userStore, type UserRecord } from './users.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const at = '2026-12-01T00:00:00.000Z';
/** More ids than one statement may bind on either database (SQLite 32,766, PostgreSQL 65,535). */
const PAST_EVERY_PARAMETER_LIMIT = 70_000;
const user = (id: string, name: string, email: string | null): Pick<UserRecord, 'id' | 'name' | 'roles' | 'email' | 'slackUserId' | 'service' | 'createdAt'> => ({
  id,
  name,
  roles: ['approver'],
  email,
  slackUserId: null,
  service: false,
  createdAt: at,
});

/** Looking a user up by email (Slack's `matchByEmail`) asks the database for that address, in any case. */
describe.each(await storeKinds())('users by email on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
    await userStore.insert(store.db, user('usr_f', 'frank', 'Frank@Example.com'));
    await userStore.insert(store.db, user('usr_g', 'gina', 'gina@example.com'));
    await userStore.insert(store.db, user('usr_n', 'nobody', null));
    await userStore.insert(store.db, user('usr_s1', 'sam', 'shared@example.com'));
    await userStore.insert(store.db, user('usr_s2', 'sue', 'SHARED@example.com'));
    await userStore.insert(store.db, user('usr_d', 'dora', 'dora@example.com'));
    await userStore.update(store.db, 'usr_d', { disabled: true });
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('finds the one user with the address whatever its case, as a record', async () => {
    expect(await userStore.byEmail(store.db, 'frank@example.com')).toMatchObject({ id: 'usr_f', name: 'frank', email: 'Frank@Example.com', roles: ['approver'], disabled: false });
    expect((await userStore.byEmail(store.db, 'GINA@EXAMPLE.COM'))?.id).toBe('usr_g');
  });

  it.skipIf(skip)('finds nobody for an unknown address, or for one two users share', async () => {
    expect(await userStore.byEmail(store.db, 'unknown@example.com')).toBeUndefined();
    expect(await userStore.byEmail(store.db, 'shared@example.com')).toBeUndefined();
  });

  it.skipIf(skip)('finds a disabled user too, for the caller to refuse', async () => {
    expect(await userStore.byEmail(store.db, 'dora@example.com')).toMatchObject({ id: 'usr_d', disabled: true });
  });

  it.skipIf(skip)('finds a user by Slack member id', async () => {
    await userStore.update(store.db, 'usr_g', { slackUserId: 'U0GINA' });
    expect((await userStore.holdersOfSlackUserId(store.db, 'U0GINA')).map((user) => user.name)).toEqual(['gina']);
    expect(await userStore.holdersOfSlackUserId(store.db, 'U0NONE')).toEqual([]);
  });
});

/** Who a request's eligible groups and users reach, read without loading anyone else. */
describe.each(await storeKinds())('users named or in groups on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
    const members: [string, string, string[]][] = [
      ['usr_a', 'ann', ['sre', 'security']],
      ['usr_b', 'ben', ['sre']],
      ['usr_c', 'cid', ['dba']],
      ['usr_d', 'dee', []],
      ['usr_x', 'xavier', ['sre']],
    ];
    for (const [id, name, groups] of members) {
      await userStore.insert(store.db, user(id, name, null));
      if (groups.length) await store.db.insertInto('user_groups').values(groups.map((group_name) => ({ user_id: id, group_name }))).execute();
    }
    for (let index = 0; index < 50; index++) await userStore.insert(store.db, user(`usr_u${index}`, `unrelated${index}`, null));
    await userStore.update(store.db, 'usr_x', { disabled: true });
  });
  afterAll(async () => cleanup());

  const ids = (users: UserRecord[]) => users.map((found) => found.id).sort();

  it.skipIf(skip)('finds the active members of the groups and the users named, each once, as records', async () => {
    const found = await userStore.activeNamedOrInGroups(store.db, ['dee'], ['sre', 'security']);
    expect(ids(found)).toEqual(['usr_a', 'usr_b', 'usr_d']);
    expect(found.find((each) => each.id === 'usr_a')).toMatchObject({ name: 'ann', roles: ['approver'], disabled: false });
  });

  it.skipIf(skip)('takes names and groups each on their own, and nothing for neither', async () => {
    expect(ids(await userStore.activeNamedOrInGroups(store.db, ['cid', 'xavier', 'nobody'], []))).toEqual(['usr_c']);
    expect(ids(await userStore.activeNamedOrInGroups(store.db, [], ['dba']))).toEqual(['usr_c']);
    // A group name is not a user name, nor the other way round.
    expect(ids(await userStore.activeNamedOrInGroups(store.db, ['sre'], ['dee']))).toEqual([]);
    expect(await userStore.activeNamedOrInGroups(store.db, [], [])).toEqual([]);
  });

  it.skipIf(skip)('reads users by id with their groups, disabled or not, for more ids than one statement can bind', async () => {
    const unknown = Array.from({ length: PAST_EVERY_PARAMETER_LIMIT }, (_, n) => `usr_unknown${n}`);
    const found = await userStore.withGroupsByIds(store.db, [...unknown, 'usr_a', 'usr_d', 'usr_x', 'usr_a']);
    expect(found.map(({ user: each, groups }) => [each.id, each.disabled, [...groups].sort()]).sort()).toEqual([
      ['usr_a', false, ['security', 'sre']],
      ['usr_d', false, []],
      ['usr_x', true, ['sre']],
    ]);
    const groups = await userStore.groupsOfUsers(store.db, [...unknown, 'usr_a', 'usr_c']);
    expect([...groups].map(([id, each]) => [id, [...each].sort()]).sort()).toEqual([
      ['usr_a', ['security', 'sre']],
      ['usr_c', ['dba']],
    ]);
    expect(await userStore.withGroupsByIds(store.db, [])).toEqual([]);
  });
});
