import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GreenlightRequest } from '../protocol/index.js';
import { collect, deployRequest, TestHub } from './test-support/hub-fixture.js';
import { createTestDatabase, postgresAvailability } from './test-support/postgres.js';
import { PgBouncer, pgBouncerAvailability } from './test-support/pgbouncer.js';

const pg = await postgresAvailability();
const bouncer = pgBouncerAvailability();
const skipped = !pg.ok ? pg.reason : !bouncer.ok ? bouncer.reason : null;

describe.skipIf(skipped !== null)(`hubs behind PgBouncer in transaction mode${skipped ? ` (skipped: ${skipped})` : ''}`, () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const pooler = new PgBouncer('transaction');
  const hubs: TestHub[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    await pooler.start();
  });
  afterAll(async () => {
    for (const hub of hubs) await hub.dispose();
    await pooler.stop();
    await database?.drop();
  });

  it('a hub whose only database URL goes through the pooler refuses to start, and says to give --database-listen-url', async () => {
    const hub = new TestHub('postgres');
    hubs.push(hub);
    hub.databaseUrl = pooler.urlFor(database.url);
    await expect(hub.start()).rejects.toThrow(/accepted a LISTEN but delivered nothing .* transaction mode .* --database-listen-url/);
  });

  it('with --database-listen-url reaching PostgreSQL directly, a request submitted on one hub reaches an approver on the other, who decides it there', async () => {
    const [hubA, hubB] = [0, 1].map(() => {
      const hub = new TestHub('postgres', { databaseListenUrl: database.url });
      hub.databaseUrl = pooler.urlFor(database.url);
      hubs.push(hub);
      return hub;
    }) as [TestHub, TestHub];
    await hubA.start();
    await hubB.start();
    const alice = await hubA.createUser('alice', ['requester']);
    const bob = await hubA.createUser('bob', ['approver'], ['approvers']);
    const aliceOnA = await hubA.connect(alice);
    const bobOnB = await hubB.connect(bob);
    const created = collect<GreenlightRequest>((listener) => bobOnB.on('request:created', listener));
    const updates = collect<GreenlightRequest>((listener) => aliceOnA.on('request:updated', listener));

    // Submissions and decisions are pipelined transactions: through the pooler they commit whole.
    const submitted = await aliceOnA.submit(deployRequest({ reason: 'through the pooler' }));
    expect((await created.next((request) => request.id === submitted.id)).reason).toBe('through the pooler');
    await bobOnB.decide({ requestId: submitted.id, decision: 'approve' });
    const approved = await updates.next((request) => request.id === submitted.id && request.status === 'approved');
    expect(approved.grant?.token).toBeTruthy();
    const verified = await hubA.api<{ valid: boolean }>('POST', '/api/v1/grants/verify', alice.token, { token: approved.grant?.token });
    expect(verified.body.valid).toBe(true);
  });
});
