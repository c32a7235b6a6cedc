import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from './database.js';
import { delegationStore, type DelegationRecord } from './delegations.js';
import { userStore } from './users.js';
import { openTestStore, storeKinds } from '../test-support/store-kinds.js';

const DAY = '2026-12-10T12:00:00.000Z';
/** More ids than one statement may bind on either database (SQLite 32,766, PostgreSQL 65,535). */
const PAST_EVERY_PARAMETER_LIMIT = 70_000;

const delegation = (overrides: Partial<DelegationRecord>): DelegationRecord => ({
  id: 'dlg_1',
  fromId: 'usr_bob',
  fromName: 'bob',
  toId: 'usr_carol',
  toName: 'carol',
  startsAt: '2026-12-10T00:00:00.000Z',
  endsAt: '2026-12-11T00:00:00.000Z',
  rules: ['prod'],
  reason: 'on leave',
  createdBy: 'bob',
  createdAt: '2026-12-09T00:00:00.000Z',
  endedAt: null,
  endedBy: null,
  ...overrides,
});

/** Delegations on both databases: rules come back as a list, and "in force" means begun, not over, not ended, from active users. */
describe.each(await storeKinds())('delegation records on $label', ({ kind, skip }) => {
  let store: Store;
  let cleanup: () => Promise<void> = async () => undefined;
  beforeAll(async () => {
    if (skip) return;
    ({ store, cleanup } = await openTestStore(kind));
    for (const [id, name, roles] of [['usr_bob', 'bob', ['approver']], ['usr_carol', 'carol', ['approver']], ['usr_dan', 'dan', ['lead']], ['usr_erin', 'erin', ['approver']]] as const) {
      await userStore.insert(store.db, { id, name, roles: [...roles], email: `${name}@example.com`, slackUserId: null, service: false, createdAt: DAY });
    }
    await store.db.insertInto('user_groups').values([{ user_id: 'usr_bob', group_name: 'sre' }, { user_id: 'usr_bob', group_name: 'dba' }, { user_id: 'usr_dan', group_name: 'leads' }]).execute();
  });
  afterAll(async () => cleanup());

  it.skipIf(skip)('comes back as written, with its rules as a list or null for every rule, and ends', async () => {
    await delegationStore.insert(store.db, delegation({}));
    await delegationStore.insert(store.db, delegation({ id: 'dlg_2', fromId: 'usr_dan', fromName: 'dan', rules: null, createdAt: '2026-12-09T01:00:00.000Z' }));
    expect(await delegationStore.byId(store.db, 'dlg_1')).toEqual(delegation({}));
    expect((await delegationStore.byId(store.db, 'dlg_2'))?.rules).toBeNull();
    expect((await delegationStore.list(store.db, 'usr_carol', 10)).map((found) => found.id)).toEqual(['dlg_2', 'dlg_1']);
    expect((await delegationStore.list(store.db, 'usr_bob', 10)).map((found) => found.id)).toEqual(['dlg_1']);
    expect(await delegationStore.list(store.db, 'usr_erin', 10)).toEqual([]);
  });

  it.skipIf(skip)('in force to a delegate: with each delegator’s roles and groups, and only inside the window, not ended, from active users', async () => {
    const toCarol = async (at: string) => (await delegationStore.inForceTo(store.db, 'usr_carol', at)).map(({ delegation: found, delegator }) => [found.id, delegator.name, delegator.roles, [...delegator.groups].sort()]);
    expect(await toCarol(DAY)).toEqual([
      ['dlg_1', 'bob', ['approver'], ['dba', 'sre']],
      ['dlg_2', 'dan', ['lead'], ['leads']],
    ]);
    expect(await toCarol('2026-12-09T23:59:59.999Z')).toEqual([]);
    expect(await toCarol('2026-12-11T00:00:00.000Z')).toEqual([]);
    expect((await delegationStore.notOver(store.db, '2026-12-09T12:00:00.000Z')).map(({ delegation: found }) => found.id).sort()).toEqual(['dlg_1', 'dlg_2']);

    await userStore.update(store.db, 'usr_dan', { disabled: true });
    expect((await toCarol(DAY)).map(([id]) => id)).toEqual(['dlg_1']);
    await delegationStore.end(store.db, 'dlg_1', DAY, 'bob');
    expect(await toCarol(DAY)).toEqual([]);
    expect((await delegationStore.byId(store.db, 'dlg_1'))?.endedBy).toBe('bob');
  });

  it.skipIf(skip)('in force from delegators: each delegate with their contact, never the one excluded', async () => {
    await delegationStore.insert(store.db, delegation({ id: 'dlg_3', toId: 'usr_erin', toName: 'erin' }));
    const from = await delegationStore.inForceFrom(store.db, ['usr_bob'], 'usr_nobody', DAY);
    expect(from.map(({ delegation: found, delegate }) => [found.id, delegate])).toEqual([['dlg_3', { id: 'usr_erin', name: 'erin', email: 'erin@example.com', slackUserId: null }]]);
    expect(await delegationStore.inForceFrom(store.db, ['usr_bob'], 'usr_erin', DAY)).toEqual([]);
    expect(await delegationStore.inForceFrom(store.db, [], 'usr_erin', DAY)).toEqual([]);
  });

  it.skipIf(skip)('in force from or to more users than one statement can bind: those of the users who have any', async () => {
    const unknown = Array.from({ length: PAST_EVERY_PARAMETER_LIMIT }, (_, n) => `usr_unknown${n}`);
    expect((await delegationStore.inForceFrom(store.db, [...unknown, 'usr_bob'], 'usr_nobody', DAY)).map(({ delegation: found, delegate }) => [found.id, delegate.name])).toEqual([['dlg_3', 'erin']]);
    const toEach = await delegationStore.inForceToEach(store.db, [...unknown, 'usr_erin', 'usr_carol'], DAY);
    expect([...toEach].map(([id, found]) => [id, found.map(({ delegation: each, delegator }) => [each.id, delegator.name, [...delegator.groups].sort()])])).toEqual([['usr_erin', [['dlg_3', 'bob', ['dba', 'sre']]]]]);
  });
});
