import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { collect, deployRequest, TestHub, type TestUser } from './test-support/hub-fixture.js';
import { eventually } from './test-support/eventually.js';
import { postgresAvailability } from './test-support/postgres.js';

const pg = await postgresAvailability();
const POLICY = `
rules:
  - { name: prod, match: { action: deploy }, approvers: [sre], maxPending: 1000 }
`;

// Each hub pushes its own requests to the delegates it knows of. A delegation made or ended on
// another hub must change that at once: the periodic re-read is set far off here, so only the
// hubs' announcement can explain what the test sees.
describe.skipIf(!pg.ok)(`a delegation changed on one of two hubs on PostgreSQL${pg.ok ? '' : ` (skipped: ${pg.reason})`}`, () => {
  const hubA = new TestHub('postgres', { policy: POLICY, delegateRefreshMs: 10 * 60_000 });
  let hubB: TestHub;
  let alice: TestUser, bob: TestUser, carol: TestUser, erin: TestUser;
  beforeAll(async () => {
    await hubA.start();
    hubB = new TestHub('postgres', { policy: POLICY, delegateRefreshMs: 10 * 60_000 });
    hubB.databaseUrl = hubA.databaseUrl;
    await hubB.start();
    alice = await hubA.createUser('alice', ['requester']);
    bob = await hubA.createUser('bob', ['approver'], ['sre']);
    carol = await hubA.createUser('carol', ['approver'], ['sre']);
    erin = await hubA.createUser('erin', ['approver']);
  });
  afterAll(async () => {
    await hubB?.stop().catch(() => undefined);
    await hubA.dispose();
  });

  it('changes who hears of the other hub’s own requests at once, not at its next periodic read', async () => {
    const erinOnB = await hubB.connect(erin);
    const carolOnB = await hubB.connect(carol);
    const erinCreated = collect<GreenlightRequest>((l) => erinOnB.on('request:created', l));
    const carolCreated = collect<GreenlightRequest>((l) => carolOnB.on('request:created', l));
    const submitOnB = async (reason: string) => {
      const request = (await hubB.api<GreenlightRequest>('POST', '/api/v1/requests', alice.token, deployRequest({ reason }))).body;
      await carolCreated.next((r) => r.id === request.id);
      // A round trip on erin's own connection: whatever B pushed to her before it has arrived.
      await erinOnB.sync();
      return request.id;
    };
    const made = await hubA.api<{ id: string }>('POST', '/api/v1/delegations', bob.token, { to: 'erin', endsAt: new Date(Date.now() + 86_400_000).toISOString(), reason: 'holiday' });
    expect(made.status).toBe(201);
    await eventually(async () => {
      const id = await submitOnB('while bob is away');
      return erinCreated.items.some((r) => r.id === id) ? id : undefined;
    }, { what: 'erin, the new delegate, to hear of a request made on B', every: 200 });

    expect((await hubA.api('DELETE', `/api/v1/delegations/${made.body.id}`, bob.token)).status).toBe(200);
    await eventually(async () => {
      const id = await submitOnB('bob is back');
      return erinCreated.items.some((r) => r.id === id) ? undefined : id;
    }, { what: 'erin, no longer a delegate, to stop hearing of requests made on B', every: 200 });
  });
});
