import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { submitRequest } from './domain/submit.js';
import { actorWithoutToken } from './identity/link-actor.js';
import { userStore } from './store/users.js';
import { ADMIN_TOKEN, deployRequest, TestHub, type DatabaseKind } from './test-support/hub-fixture.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
  - name: incidents
    match: { action: restart }
    approvers: [sre]
    breakGlass: { groups: [oncall], maxTtl: 1h, reviewers: [sre] }
`;

/**
 * A submission authenticated a moment before its requester was disabled reaches the domain with the
 * identity it was authenticated with; the domain is called here with that identity, after the
 * disable committed, which is the order such a race leaves.
 */
describe.each<DatabaseKind>(['sqlite', 'postgres'])('a submission whose requester was disabled after it was authenticated, on %s', (kind) => {
  const skip = kind === 'postgres' && !pg.ok;
  const hub = new TestHub(kind, { policy: POLICY });

  beforeAll(async () => {
    if (skip) return;
    await hub.start();
    await hub.createUser('bob', ['approver'], ['sre']);
  });
  afterAll(() => (skip ? undefined : hub.dispose()));

  const authenticatedThenDisabled = async (name: string, groups: string[]) => {
    await hub.createUser(name, ['requester'], groups);
    const record = await userStore.byName(hub.hub.ctx.store.db, name);
    if (!record) throw new Error(`no user ${name}`);
    const actor = actorWithoutToken(record, groups);
    expect((await hub.api('POST', `/api/v1/users/${name}/disable`, ADMIN_TOKEN)).status).toBe(200);
    return actor;
  };
  const requestsOf = async (name: string) =>
    (await hub.api<{ requests: GreenlightRequest[] }>('GET', '/api/v1/requests?limit=200', ADMIN_TOKEN)).body.requests.filter((request) => request.requester === name);

  it.skipIf(skip)('is refused and writes nothing, rather than waiting on approvers for someone who has left', async () => {
    const carl = await authenticatedThenDisabled('carl', []);
    await expect(submitRequest(hub.hub.ctx, carl, deployRequest())).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'Your account has been disabled; nothing was submitted.' });
    await expect(submitRequest(hub.hub.ctx, carl, deployRequest({ idempotencyKey: 'retry-1' }))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await requestsOf('carl')).toEqual([]);
  });

  it.skipIf(skip)('takes no access by break-glass either', async () => {
    const dina = await authenticatedThenDisabled('dina', ['oncall']);
    const glass = deployRequest({ action: 'restart', reason: 'the payments database is down for everyone', breakGlass: { incident: 'INC-9' } });
    await expect(submitRequest(hub.hub.ctx, dina, glass)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await requestsOf('dina')).toEqual([]);
  });
});
