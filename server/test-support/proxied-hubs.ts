import { afterAll, beforeAll } from 'vitest';
import { TestHub, type TestUser } from './hub-fixture.js';
import { createTestDatabase } from './postgres.js';
import { TcpProxy } from './tcp-proxy.js';

/**
 * Two hubs on one fresh PostgreSQL database: hub A reaches it through a `TcpProxy`, so a test can
 * cut, hold or restore A's database while B keeps its own; alice (requester) and bob (approver in
 * `approvers`) exist. Registers its own `beforeAll` and `afterAll`; what they fill in is read in tests.
 */
export function hubsWithProxiedDatabase() {
  const proxy = new TcpProxy(5432);
  const hubA = new TestHub('postgres');
  const hubB = new TestHub('postgres');
  const database = { url: '', drop: async () => undefined as void };
  const users = {} as { alice: TestUser; bob: TestUser };

  beforeAll(async () => {
    Object.assign(database, await createTestDatabase());
    await proxy.start();
    const viaProxy = new URL(database.url);
    viaProxy.port = String(proxy.port);
    hubA.databaseUrl = viaProxy.toString();
    hubB.databaseUrl = database.url;
    await hubA.start();
    await hubB.start();
    users.alice = await hubA.createUser('alice', ['requester']);
    users.bob = await hubA.createUser('bob', ['approver'], ['approvers']);
  });
  afterAll(async () => {
    proxy.restore();
    await hubA.dispose();
    await hubB.dispose();
    await proxy.close();
    await database.drop();
  });
  return { proxy, hubA, hubB, database, users };
}
