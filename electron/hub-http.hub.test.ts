import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHubHttp } from './hub-http.js';
import { spawnHub, type SpawnedHub } from '../server/test-support/hub-process.js';

/** The main process's HTTP calls for the Users view, against a real hub: the renderer only ever sees what these return. */
describe('user administration from the desktop shell against a real hub', () => {
  let hub: SpawnedHub;
  const http = () => createHubHttp((url, init) => fetch(url, init), () => ({ hubUrl: hub.url, token: hub.adminToken }));

  beforeAll(async () => {
    hub = await spawnHub({ args: ['--log-level', 'warn'], timeoutMs: 45_000 });
  }, 60_000);
  afterAll(() => hub?.stop());

  it('adds, lists, changes, disables and enables a user, and reports what the hub refuses with its code', async () => {
    const created = await http().createUser({ name: 'bob', roles: ['approver'], email: 'bob@example.com' });
    expect(created).toMatchObject({ name: 'bob', roles: ['approver'], groups: [], email: 'bob@example.com', status: 'active' });
    expect(created.token).toMatch(/^glt_/);
    expect((await http().listUsers()).map((user) => user.name).sort()).toEqual(['admin', 'bob']);

    expect(await http().updateUser('bob', { groups: ['approvers'], email: null })).toMatchObject({ groups: ['approvers'], email: null });
    expect(await http().disableUser('bob')).toMatchObject({ status: 'disabled' });
    expect(await http().enableUser('bob')).toMatchObject({ status: 'active' });

    const setup = await http().setupStatus();
    // A hub started without --policy writes its commented starter policy into the data directory and uses it.
    expect(setup.policy).toMatchObject({ source: 'file', file: expect.stringMatching(/policy\.yaml$/) });
    expect(setup.users).toEqual({ active: 2, total: 2 });

    await expect(http().updateUser('admin', { roles: ['approver'] })).rejects.toMatchObject({ name: 'GreenlightError', code: 'LAST_ADMIN' });
    await expect(http().createUser({ name: 'bob', roles: ['approver'] })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
