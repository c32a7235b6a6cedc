import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Delegation, GreenlightRequest, SyncResult } from '../protocol/index.js';
import { waitsOnMe } from '../protocol/waits-on-me.js';
import { ManualClock } from './clock.js';
import { collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';

const POLICY = `
rules:
  - name: prod
    match: { action: deploy }
    approvers: [sre]
`;

const HOUR = 3_600_000;

// The tray, notifications and the inbox decide "waiting on me" from the sync's me.actingFor: a
// delegate's app must sync again when whom they stand in for changes, not at its next reconnect.
describe('a delegate\'s connected app when a delegation to them starts or ends', () => {
  const clock = new ManualClock(new Date('2026-12-03T09:00:00Z'));
  const hub = new TestHub('sqlite', { policy: POLICY, clock });
  let alice: TestUser, bob: TestUser, carol: TestUser;

  beforeAll(async () => {
    await hub.start();
    alice = await hub.createUser('alice', ['requester']);
    bob = await hub.createUser('bob', ['approver'], ['sre']);
    carol = await hub.createUser('carol', ['approver'], ['devs']);
  });
  afterAll(() => hub.dispose());

  const later = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();

  it('syncs again at once when it is made, when it ends, and when a window set ahead opens', async () => {
    const carolClient = await hub.connect(carol);
    const synced = collect<SyncResult>((listener) => carolClient.onSync(listener));
    const syncs = synced.items;
    /** The first sync after the `seen` already counted. */
    const nextSync = (seen: number) => synced.next((sync) => syncs.indexOf(sync) >= seen);
    const request = (await hub.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest())).body;

    const made = await hub.api<Delegation>('POST', '/api/v1/delegations', bob.token, { to: 'carol', endsAt: later(24 * HOUR), reason: 'holiday' });
    expect(made.status).toBe(201);
    const during = await nextSync(0);
    expect(during.me.actingFor?.map((delegator) => delegator.name)).toEqual(['bob']);
    expect(waitsOnMe(request, during.me)).toBe(true);

    expect((await hub.api('DELETE', `/api/v1/delegations/${made.body.id}`, bob.token)).status).toBe(200);
    const after = await nextSync(syncs.length);
    expect(after.me.actingFor ?? []).toEqual([]);
    expect(waitsOnMe(request, after.me)).toBe(false);

    // Set ahead: nothing changes until its window opens, found at the hub's next read of delegations.
    expect((await hub.api('POST', '/api/v1/delegations', bob.token, { to: 'carol', startsAt: later(HOUR), endsAt: later(2 * HOUR), reason: 'afternoon off' })).status).toBe(201);
    const seen = syncs.length;
    clock.advance(HOUR);
    await hub.hub.ctx.delegates?.refresh();
    expect((await nextSync(seen)).me.actingFor?.map((delegator) => delegator.name)).toEqual(['bob']);
  });
});
